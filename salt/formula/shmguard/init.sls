{#-
  The shmguard formula: the binary for this minion's cpuarch, then one shmguard state per
  mount point in pillar shmguard:mounts (see pillar.example), with the ID `shmguard-<path>`
  (`shmguard-/dev/shm`) and the path as its name, so an SLS that includes this formula can keep
  its own `/dev/shm:` state without "Detected conflicting IDs":
    shmguard:
      mounts:
        /dev/shm: {state: mounted, mode: "1777", size: 4G, options: [nodev, nosuid, noexec]}
  `state` (default mounted) picks the function: mounted -> shmguard.managed, present,
  ephemeral, absent; every other key is an argument of that function (`name`, when given, is
  the path and the key only a label in the ID).
-#}
{%- from "shmguard/map.jinja" import shmguard with context %}
{%- set functions = {'mounted': 'managed', 'present': 'present', 'ephemeral': 'ephemeral', 'absent': 'absent'} %}
include:
  - shmguard.binary

{%- for path, args in salt['pillar.get']('shmguard:mounts', {}) | dictsort %}
{%- set args = args or {} %}
{%- set state = args.get('state', 'mounted') %}

shmguard-{{ path }}:
  shmguard.{{ functions.get(state, state) }}:
    - name: {{ args.get('name', path) | json }}
    - binary: {{ shmguard.binary }}
{%- for key, value in args | dictsort if key not in ('state', 'name') %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
    - require:
      - sls: shmguard.binary
{%- endfor %}
