{#-
  The shmguard formula: the binary for this minion's cpuarch, then one shmguard state per
  mount point in pillar shmguard:mounts (see pillar.example):
    shmguard:
      mounts:
        /dev/shm: {state: mounted, mode: "1777", size: 4G, options: [nodev, nosuid, noexec]}
  `state` (default mounted) picks the function: mounted -> shmguard.managed, present,
  ephemeral, absent; every other key is an argument of that function.
-#}
{%- from "shmguard/map.jinja" import shmguard with context %}
{%- set functions = {'mounted': 'managed', 'present': 'present', 'ephemeral': 'ephemeral', 'absent': 'absent'} %}
include:
  - shmguard.binary

{%- for path, args in salt['pillar.get']('shmguard:mounts', {}) | dictsort %}
{%- set args = args or {} %}
{%- set state = args.get('state', 'mounted') %}

{{ path }}:
  shmguard.{{ functions.get(state, state) }}:
    - binary: {{ shmguard.binary }}
{%- for key, value in args | dictsort if key != 'state' %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
    - require:
      - sls: shmguard.binary
{%- endfor %}
