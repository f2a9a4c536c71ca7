{#- Places the shmguard build for this minion's cpuarch (map.jinja), checked against its sha256,
    or fails clearly. The file is compared by its hash only when the stamp beside it differs:
    see below. #}
{%- from "shmguard/map.jinja" import shmguard with context %}
{%- if shmguard.source %}
shmguard-binary:
  file.managed:
    - name: {{ shmguard.binary }}
    - source: {{ shmguard.source }}
    - source_hash: {{ shmguard.source_hash }}
    - mode: "0755"
    - user: root
    - group: root
    - makedirs: True
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
