# An SLS of your own that uses the formula: the binary for this minion's cpuarch, /dev/shm and
# /dev/mqueue, and a handler that runs only when shmguard changed /dev/shm. It is NOT served
# from salt/formula (it edits /etc/fstab and restarts a service): copy it into your own states
# (e.g. /srv/salt/app.sls) beside salt/formula in file_roots, run salt/build-formula once on the
# master, then: salt '*' saltutil.sync_all; salt '*' state.apply app test=True
# (pillar-driven instead: state.apply shmguard, see pillar.example).
# The IDs are namespaced (shmguard-/dev/shm, as the formula names its states) and `name` is the
# path, so another SLS may keep its own `/dev/shm:` state without "Detected conflicting IDs".

include:
  - shmguard.binary

shmguard-/dev/shm:
  shmguard.managed:
    - name: /dev/shm
    - mode: "1777"
    - size: 4G
    - options: [nodev, nosuid, noexec]
    - backup: true
    - require:
      - sls: shmguard.binary

shmguard-/dev/mqueue:
  shmguard.managed:
    - name: /dev/mqueue
    - mode: "1777"
    - options: [nodev, nosuid, noexec]
    - queues_max: 512
    - require:
      - sls: shmguard.binary

# Runs only when the /dev/shm state changed something (a resize, new flags).
restart-the-app-after-a-shm-change:
  cmd.run:
    - name: systemctl try-restart myapp.service
    - onchanges:
      - shmguard: shmguard-/dev/shm
