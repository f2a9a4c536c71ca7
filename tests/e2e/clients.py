# The client programs of the e2e client matrix (tests/e2e/clients.rs): what real users run on
# /dev/shm and /dev/mqueue. Each runs in its own interpreter (a SIGBUS kills only it); prints
# {program: "ok" | the last line of its error | "killed by signal N"} as JSON.
import json, subprocess, sys
PROGRAMS = {
    "lock": "import multiprocessing as mp; mp.Lock()",
    "pool": "import multiprocessing as mp\nif __name__ == '__main__':\n    with mp.Pool(2) as p: assert p.map(abs, [-1, -2]) == [1, 2]",
    "executor": "from concurrent.futures import ProcessPoolExecutor\nif __name__ == '__main__':\n    with ProcessPoolExecutor(2) as e: assert list(e.map(abs, [-1])) == [1]",
    "queue": "import multiprocessing as mp; q = mp.Queue(); q.put(1); assert q.get() == 1",
    "shared_memory": "from multiprocessing import shared_memory as s; m = s.SharedMemory(create=True, size=1 << 16); m.buf[:4] = b'abcd'; m.close(); m.unlink()",
    "sharedarray": "import os, numpy as np, SharedArray as sa; n = int(os.environ['CLIENT_BYTES']) // 8; name = 'shm://client-%d' % os.getpid(); a = sa.create(name, n, dtype=np.float64)\ntry:\n    a[:] = 1.0\nfinally:\n    sa.delete(name)",
    "mq_posix_ipc": "import os, posix_ipc as p; q = p.MessageQueue('/client-%d' % os.getpid(), p.O_CREX); q.send(b'x'); q.receive(); q.close(); q.unlink()",
    "executor4": "import os, numpy as np, SharedArray as sa\nfrom concurrent.futures import ProcessPoolExecutor\ndef part(a):\n    return float(sa.attach(a[0])[a[1]:a[2]].sum())\nif __name__ == '__main__':\n    n = int(os.environ['CLIENT_BYTES']) // 8; name = 'shm://client-%d' % os.getpid(); x = sa.create(name, n, dtype=np.float64)\n    try:\n        x[:] = 1.0; step = n // 4 + 1\n        with ProcessPoolExecutor(4) as e: assert sum(e.map(part, [(name, i, i + step) for i in range(0, n, step)])) == n\n    finally:\n        sa.delete(name)",
    "mq_shape": "import os, posix_ipc as p; m, s = map(int, os.environ['CLIENT_MQ'].split('x')); q = p.MessageQueue('/client-q%d' % os.getpid(), p.O_CREX, max_messages=m, max_message_size=s); q.send(b'x'); q.receive(); q.close(); q.unlink()",
    "mq_small": "import os, posix_ipc as p; q = p.MessageQueue('/client-s%d' % os.getpid(), p.O_CREX, max_messages=4, max_message_size=64); q.send(b'x'); q.receive(); q.close(); q.unlink()",
}
out = {}
for name in sys.argv[1:]:
    r = subprocess.run([sys.executable, "-c", PROGRAMS[name]], capture_output=True, text=True, timeout=120)
    if r.returncode == 0:
        out[name] = "ok"
    elif r.returncode < 0:
        out[name] = "killed by signal %d" % -r.returncode
    else:
        lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
        out[name] = lines[-1] if lines else "exit %d" % r.returncode
print(json.dumps(out))
