{#- Places the shmguard build for this minion's cpuarch (map.jinja), or fails clearly. #}
{%- from "shmguard/map.jinja" import shmguard with context %}
{%- if shmguard.source %}
shmguard-binary:
  file.managed:
    - name: {{ shmguard.binary }}
    - source: {{ shmguard.source }}
    - mode: "0755"
    - user: root
    - group: root
    - makedirs: True
{%- else %}
shmguard-binary:
  test.fail_without_changes:
    - name: >-
        shmguard has no build for this minion's cpuarch {{ shmguard.cpuarch }}: builds exist for
        {{ shmguard.supported }} (salt/shmguard/map.jinja). Build one with
        `cargo build --release --target <arch>-unknown-linux-musl` and serve it with pillar
        shmguard:sources:{{ shmguard.cpuarch }}.
{%- endif %}
