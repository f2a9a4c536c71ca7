{#- Places the shmguard build for this minion's cpuarch (map.jinja), checked against its sha256,
    or fails clearly.
    The per-run check is cheap: when the placed file already has the build's sha256 (from the
    .sha256 beside a salt:// build, or a `sha256=` hash in pillar), mode 0755 and owner root,
    the state is a no-op test.succeed_without_changes and file.managed (its source lookups,
    cache checks and attribute handling, ~30 ms of state duration here) does not run at all.
    For salt:// sources Salt verifies the file by the fileserver's own hash (it ignores
    source_hash there, with a warning), so source_hash is only passed for other sources. #}
{%- from "shmguard/map.jinja" import shmguard with context %}
{%- if shmguard.source %}
{%-   set expected = '' %}
{%-   if shmguard.source_hash.startswith('sha256=') %}
{%-     set expected = shmguard.source_hash[7:] %}
{%-   elif shmguard.source_hash.startswith('salt://') %}
{%-     set expected = ((salt['cp.get_file_str'](shmguard.source_hash) or '').split() or [''])[0] %}
{%-   endif %}
{%-   if expected and salt['file.file_exists'](shmguard.binary)
          and salt['file.get_mode'](shmguard.binary) == '0755'
          and salt['file.get_user'](shmguard.binary) == 'root'
          and salt['file.get_hash'](shmguard.binary, 'sha256') == expected | lower %}
shmguard-binary:
  test.succeed_without_changes:
    - name: {{ shmguard.binary }} is the build {{ shmguard.source }} (sha256 {{ expected[:16] }}...)
{%-   else %}
shmguard-binary:
  file.managed:
    - name: {{ shmguard.binary }}
    - source: {{ shmguard.source }}
{%-     if not shmguard.source.startswith('salt://') %}
    - source_hash: {{ shmguard.source_hash }}
{%-     endif %}
    - mode: "0755"
    - user: root
    - group: root
    - makedirs: True
{%-   endif %}
{%- else %}
shmguard-binary:
  test.configurable_test_state:
    - name: shmguard build for cpuarch {{ shmguard.cpuarch }}
    - changes: False
    - result: False
    - allow_test_mode_failure: True
    - comment: >-
        shmguard has no build for this minion's cpuarch {{ shmguard.cpuarch }}: builds exist for
        {{ shmguard.supported }} (salt/formula/shmguard/map.jinja). Build one with
        `cargo build --release --target <arch>-unknown-linux-musl` and serve it with pillar
        shmguard:sources:{{ shmguard.cpuarch }} (a URL, with its hash at URL.sha256).
{%- endif %}
