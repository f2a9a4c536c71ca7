//! The collection's audit playbook (`ansible-playbook shmguard.shm.audit`) through the real
//! ansible-playbook over real SSH to three loopback sshd hosts (ssh_host.rs), each in its own
//! namespaces with its own /dev/shm and fstab: the fleet report is written on the controller
//! by the collection's own build, counts every host, changes nothing on the hosts, and a
//! cached run is one remote command per host. Needs real root (sshd): names say another_user.

use serde_json::Value;

use crate::ssh_host::SshHost;

struct Fleet {
    hosts: Vec<SshHost>,
    inventory: String,
}

/// Host 0 compliant, host 1 without noexec live, host 2 without nosuid in fstab; host 0's
/// namespaces also hold the controller.
fn fleet() -> Fleet {
    let specs = [
        ("nodev,nosuid,noexec", "defaults,nodev,nosuid,noexec"),
        ("nodev,nosuid", "defaults,nodev,nosuid,noexec"),
        ("nodev,nosuid,noexec", "defaults,nodev,noexec"),
    ];
    let hosts: Vec<SshHost> = specs
        .iter()
        .map(|(live, line)| {
            let h = SshHost::new(&format!("size=64m,mode=1777,{live}"), false);
            h.sh(&format!(
                "printf 'tmpfs /dev/shm tmpfs {line} 0 0\\n' > {}",
                h.fstab
            ));
            h
        })
        .collect();
    let mut inv = String::new();
    for (i, h) in hosts.iter().enumerate() {
        // each host's key, where the controller (in host 0's namespaces) can read it
        let key = hosts[0]
            .sb
            .file(&format!("key-{i}"), &h.sb.read(&h.sb.path("id")));
        hosts[0].sh(&format!("chmod 600 {key}"));
        inv += &format!(
            "shm-{i} ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={key} \
             ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' \
             shmguard_fstab={} shmguard_init=other\n",
            h.port, h.fstab
        );
    }
    let inventory = hosts[0].sb.file("fleet-inventory", inv.as_bytes());
    Fleet { hosts, inventory }
}

fn snapshot(h: &SshHost) -> String {
    h.sb.snapshot(&["/dev/shm"], &[&h.fstab])
}

#[test]
fn audit_playbook_writes_the_fleet_report_on_the_controller_another_user() {
    let f = fleet();
    let before: Vec<String> = f.hosts.iter().map(snapshot).collect();
    let controller = &f.hosts[0];
    let report = controller.sb.path("fleet.json");
    let html = controller.sb.path("fleet.html");
    for (run, format, out) in [(0, "json", &report), (1, "html", &html)] {
        let counts: Vec<usize> = f.hosts.iter().map(SshHost::remote_commands).collect();
        let (o, text, _) = controller.ansible_playbook(
            &f.inventory,
            "shmguard.shm.audit",
            &[
                "-e",
                &format!("shmguard_report={out} shmguard_report_format={format}"),
                "-e",
                "shmguard_profile=cis",
            ],
        );
        assert!(o.status.success(), "{text}");
        assert!(text.contains("drift found (3 hosts)"), "{text}");
        for (h, n) in f.hosts.iter().zip(counts) {
            let want = if run == 0 { 2 } else { 1 };
            assert_eq!(
                h.remote_commands() - n,
                want,
                "run {run}: first upload and run, then one cached command per host\n{text}"
            );
        }
    }
    let after: Vec<String> = f.hosts.iter().map(snapshot).collect();
    assert_eq!(before, after, "an audit changes nothing on the hosts");

    let v: Value = serde_json::from_slice(&controller.sb.read(&report)).unwrap();
    assert_eq!(v["summary"]["hosts"], 3, "{v}");
    assert_eq!(v["summary"]["compliant_hosts"], 1, "{v}");
    let hosts = crate::fleet::host_names(&v);
    assert_eq!(
        hosts,
        ["shm-2", "shm-1", "shm-0"],
        "worst first (2 fstab+boot failures, then 1 live)"
    );
    assert_eq!(v["hosts"][1]["checks"]["dev-shm.noexec.live"], "fail");
    assert_eq!(v["hosts"][0]["checks"]["dev-shm.nosuid.fstab"], "fail");
    assert_eq!(v["hosts"][0]["checks"]["dev-shm.nosuid.boot"], "fail");
    let page = String::from_utf8(controller.sb.read(&html)).unwrap();
    for i in 0..3 {
        assert!(page.contains(&format!(">shm-{i}</th>")), "{page}");
    }
    // nothing left behind on the controller but the report
    assert!(
        controller
            .sh(&format!("ls -A {}", controller.sb.path("")))
            .lines()
            .all(|l| !l.ends_with(".shmguard"))
    );
}
