# Distribute the static shmguard binary, then enforce /dev/shm and /dev/mqueue.
#   put shmguard (the static musl build) under your file_roots as shmguard/shmguard,
#   and this repository's salt/_states and salt/_modules under file_roots too (or
#   states_dirs/module_dirs), then: salt '*' saltutil.sync_all; salt '*' state.apply shm

shmguard-binary:
  file.managed:
    - name: /usr/local/sbin/shmguard
    - source: salt://shmguard/shmguard
    - mode: "0755"

/dev/shm:
  shmguard.managed:
    - binary: /usr/local/sbin/shmguard
    - mode: "1777"
    - size: 4G
    - options: [nodev, nosuid, noexec]
    - backup: true
    - require:
      - file: shmguard-binary

/dev/mqueue:
  shmguard.managed:
    - binary: /usr/local/sbin/shmguard
    - mode: "1777"
    - options: [nodev, nosuid, noexec]
    - queues_max: 512
    - require:
      - file: shmguard-binary

# The same without the Python glue: cmd.run reads shmguard's stateful JSON, and runs the
# --check form under test=True.
/dev/shm via cmd.run:
  cmd.run:
    - name: /usr/local/sbin/shmguard apply --path /dev/shm --mode 1777 --size 4G --option nodev,nosuid,noexec --format salt-stateful
    - stateful:
      - test_name: /usr/local/sbin/shmguard apply --path /dev/shm --mode 1777 --size 4G --option nodev,nosuid,noexec --format salt-stateful --check
    - require:
      - file: shmguard-binary
