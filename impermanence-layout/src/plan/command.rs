//! Each step as the command a person would type: what `plan` prints.

use indexmap::IndexMap;

use super::Step;

fn opts(flag: &str, props: &IndexMap<String, String>) -> String {
    props
        .iter()
        .map(|(k, v)| format!(" {flag} {k}={}", shell(v)))
        .collect()
}

/// `s` as one shell word.
fn shell(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn path(p: &std::path::Path) -> String {
    shell(&p.display().to_string())
}

impl Step {
    /// The equivalent command.
    pub fn to_command(&self) -> String {
        match self {
            Step::CreateVdevFile { path: p, size } => format!("truncate -s {size} {}", path(p)),
            Step::CreatePool {
                name,
                topology,
                properties,
                root_properties,
                force,
                altroot,
                enable_features,
            } => {
                let devs: String = topology
                    .to_args()
                    .iter()
                    .map(|a| format!(" {}", shell(a)))
                    .collect();
                format!(
                    "zpool create{}{}{}{}{} {name}{devs}",
                    if *force { " -f" } else { "" },
                    if *enable_features { "" } else { " -d" },
                    altroot
                        .as_deref()
                        .map_or(String::new(), |r| format!(" -R {}", path(r))),
                    opts("-o", properties),
                    opts("-O", root_properties)
                )
            }
            Step::SetProperty {
                dataset,
                property,
                value,
            } => format!("zfs set {property}={} {dataset}", shell(value)),
            Step::SetPoolProperty {
                pool,
                property,
                value,
            } => format!("zpool set {property}={} {pool}", shell(value)),
            Step::CreateDataset { name, properties } => {
                format!("zfs create{} {name}", opts("-o", properties))
            }
            Step::CreateVolume {
                name,
                size,
                block_size,
                sparse,
                properties,
            } => format!(
                "zfs create -V {size}{}{}{} {name}",
                if *sparse { " -s" } else { "" },
                block_size.map_or(String::new(), |b| format!(" -b {b}")),
                opts("-o", properties)
            ),
            Step::PartitionDisk {
                disk, partitions, ..
            } => {
                // As apply does it: the disk's own signatures, the table, then what the old
                // table left inside the new partitions.
                let mut cmd = format!("wipefs -a {} && sgdisk --clear", path(disk));
                for p in partitions {
                    let code = crate::spec::PartitionKind::from_type_guid(&p.type_guid)
                        .map_or(p.type_guid.as_str(), |k| k.sgdisk_code());
                    let n = p.number;
                    cmd.push_str(&format!(
                        " -n {n}:{}:{} -t {n}:{code} -c {n}:{}",
                        p.first,
                        p.last,
                        shell(&p.label)
                    ));
                }
                cmd.push_str(&format!(" {} && udevadm settle", path(disk)));
                for p in partitions {
                    cmd.push_str(&format!(
                        " && wipefs -a {}",
                        path(&crate::spec::partlabel_path(&p.label))
                    ));
                }
                format!("{cmd}  # a new partition table: not undone")
            }
            Step::Format {
                device,
                format,
                label,
            } => crate::filesystem::mkfs_args(*format, label.as_deref())
                .iter()
                .map(|a| shell(a))
                .chain(std::iter::once(path(device)))
                .collect::<Vec<_>>()
                .join(" "),
            Step::MountDevice {
                device,
                path: p,
                fstype,
                options,
            } => format!(
                "mount --mkdir -t {fstype}{} {} {}",
                if options.is_empty() {
                    String::new()
                } else {
                    format!(" -o {}", shell(&options.join(",")))
                },
                path(device),
                path(p)
            ),
            Step::ClearLabel { device } => format!("zpool labelclear -f {}", path(device)),
            Step::ImportPool {
                name,
                dirs,
                altroot,
                ..
            } => {
                let mut cmd = "zpool import -N".to_owned();
                if let Some(root) = altroot {
                    cmd.push_str(&format!(" -R {}", path(root)));
                }
                for d in dirs {
                    cmd.push_str(&format!(" -d {}", path(d)));
                }
                format!("{cmd} {name}")
            }
            Step::Snapshot { name } => format!("zfs snapshot {name}"),
            Step::Mount {
                dataset,
                path: p,
                options,
            } => format!(
                "mount --mkdir -t zfs{} {dataset} {}",
                if options.is_empty() {
                    String::new()
                } else {
                    format!(" -o {}", shell(&options.join(",")))
                },
                path(p)
            ),
        }
    }
}
