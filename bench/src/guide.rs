//! The guide's layout two ways: its own shell commands (`zpool create`, five `zfs create`, one
//! `zfs snapshot`, one process each, as in `../shared/reference/impermanence-guide.txt`), and
//! `impermanence-layout`'s plan for the same spec. The guide's `mount` lines are left out of
//! both: the layout leaves mounting to NixOS.

use std::path::Path;
use std::process::Command;

use impermanence_layout::{Inventory, Plan, PlanOptions, Spec, VdevEntry};

/// The default spec (the guide's layout) as pool `pool` on the file `vdev`, planned for an
/// empty system.
pub fn plan(pool: &str, vdev: &Path) -> Plan {
    let mut spec = Spec::default();
    spec.pool.name = pool.into();
    spec.pool.vdevs.push(VdevEntry::new(vdev));
    spec.validate().expect("the guide's layout is valid");
    Plan::new(&spec, &Inventory::without_zfs(&spec), &PlanOptions::new())
}

/// The guide's commands, with its pool name and disk replaced by `pool` and `vdev`.
pub fn shell_commands(pool: &str, vdev: &Path) -> Vec<Vec<String>> {
    let mut zpool: Vec<String> = ["zpool", "create", "-f"].map(String::from).to_vec();
    for o in ["ashift=12", "autotrim=on"] {
        zpool.extend(["-o".into(), o.into()]);
    }
    for o in [
        "compression=zstd",
        "acltype=posixacl",
        "atime=off",
        "xattr=sa",
        "normalization=formD",
        "mountpoint=none",
    ] {
        zpool.extend(["-O".into(), o.into()]);
    }
    zpool.extend([pool.into(), vdev.display().to_string()]);
    let mut cmds = vec![zpool];
    for ds in ["root", "nix", "tmp", "cache", "persist"] {
        cmds.push(
            [
                "zfs",
                "create",
                "-o",
                "mountpoint=legacy",
                &format!("{pool}/{ds}"),
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    cmds.push(
        ["zfs", "snapshot", &format!("{pool}/persist@blank")]
            .map(String::from)
            .to_vec(),
    );
    cmds
}

/// Runs the guide's commands one process each, as its script does; panics on a failure.
pub fn run_shell(pool: &str, vdev: &Path) {
    for cmd in shell_commands(pool, vdev) {
        let out = Command::new(&cmd[0])
            .args(&cmd[1..])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", cmd[0]));
        assert!(
            out.status.success(),
            "{}: {}",
            cmd.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_script_has_its_seven_commands() {
        let cmds = shell_commands("zroot", Path::new("/dev/sda2"));
        assert_eq!(cmds.len(), 7);
        assert_eq!(
            cmds[0].join(" "),
            "zpool create -f -o ashift=12 -o autotrim=on -O compression=zstd -O acltype=posixacl \
             -O atime=off -O xattr=sa -O normalization=formD -O mountpoint=none zroot /dev/sda2"
        );
        assert_eq!(
            cmds[5].join(" "),
            "zfs create -o mountpoint=legacy zroot/persist"
        );
        assert_eq!(cmds[6].join(" "), "zfs snapshot zroot/persist@blank");
    }
}
