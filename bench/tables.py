"""Tables for bench/run: medians, human units, ratios (peer / shmguard), aligned columns.
Pure: no I/O beyond printing."""

import statistics


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_time(s):
    if s != s:
        return "-"
    if abs(s) < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if abs(s) < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_bytes(b):
    if not b:
        return "-"
    if b >= 1 << 20:
        return f"{b / (1 << 20):.1f} MiB"
    return f"{b / 1024:.0f} KiB"


def fmt_ratio(x):
    if x != x or x == 0:
        return "-"
    return f"x{x:.0f}" if x >= 10 else f"x{x:.1f}"


def table(title, header, rows):
    """A Markdown table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(title)
    for k, r in enumerate([header] + rows):
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))]
        print("| " + " | ".join(cells) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print()


def yes(samples, key):
    """yes / no / k/n: in how many runs `key` was true."""
    n = sum(1 for x in samples if x[key])
    return "yes" if n == len(samples) else ("no" if n == 0 else f"{n}/{len(samples)}")


def ratios(peer, ours):
    """Ratios of the medians of wall, CPU and peak RSS."""
    def r(k):
        return median([x[k] for x in peer]) / median([x[k] for x in ours])

    return [fmt_ratio(r("wall")), fmt_ratio(r("cpu")), fmt_ratio(r("rss"))]


def measured(samples, pick=lambda x, k: x[k]):
    """Median wall, CPU and peak RSS of the samples, formatted."""
    return [
        fmt_time(median([pick(x, "wall") for x in samples])),
        fmt_time(median([pick(x, "cpu") for x in samples])),
        fmt_bytes(median([pick(x, "rss") for x in samples])),
    ]


def notes(res, labels, scratch):
    """One line per tool and state that left the policy unmet: what shmguard --check still
    found to do after it (the first such run)."""
    for state in ("drifted", "compliant"):
        for key, label in labels.items():
            left = next((x["left"] for x in res[state][key] if x["left"]), None)
            if left:
                text = "; ".join(left).replace(scratch, "<scratch>")
                print(f"  after {label} ({state}), still not as wanted: {text}")
    print()
