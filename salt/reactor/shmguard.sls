{#- Reactor for the shmguard beacon (salt/formula/_beacons/shmguard.py): a minion whose
    /dev/shm or /dev/mqueue drifted from its policy gets the shmguard formula applied again.
    The master config maps the beacon's tags to this file:

      reactor:
        - 'salt/beacon/*/shmguard/*':
          - salt://reactor/shmguard.sls

    data is the beacon's event: id (the minion), event, path, failing, remedy, time, host.
    Only drift and an initial non-compliant verdict are repaired: an error (the target cannot be
    judged) or flapping (another tool fights shmguard) needs a person, not a loop. #}
{%- if data.get('event') in ('drift', 'initial') %}
shmguard-repair-{{ data['id'] }}:
  local.state.apply:
    - tgt: {{ data['id'] | yaml_dquote }}
    - args:
      - mods: shmguard
{%- endif %}
