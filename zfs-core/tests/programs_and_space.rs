//! Channel programs and space accounting on the real kernel module.

mod common;

use common::*;
use zfs_core::nvlist::{NvList, NvValue};
use zfs_core::testing::FilePool;
use zfs_core::{CreateDataset, DatasetName, ErrorKind, ProgramOptions, SendFlags};

#[test]
#[ignore = "needs ZFS"]
fn programs_return_values_read_arguments_and_change_the_pool() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name();
    let out = zfs
        .program(p, "return {answer=42}", &ProgramOptions::new())
        .unwrap();
    let ret = out.get_list("return").expect("a return value");
    assert_eq!(ret.get("answer"), Some(NvValue::I64(42)));

    let mut args = NvList::new();
    args.insert_str("name", &format!("{p}/fromlua")).unwrap();
    CreateDataset::filesystem(DatasetName::new(format!("{p}/fromlua")).unwrap())
        .create(&zfs)
        .unwrap();
    let program = "a = ...\nerr = zfs.sync.destroy(a['name'])\nreturn err";
    let out = zfs
        .program(p, program, &ProgramOptions::new().args(args))
        .unwrap();
    assert_eq!(out.get("return"), Some(NvValue::I64(0)));
    assert!(
        !zfs.exists(&any(format!("{p}/fromlua"))),
        "the program's destroy did not happen"
    );

    // Read-only (no-sync) programs read properties.
    let out = zfs
        .program(
            p,
            &format!("value, source = zfs.get_prop('{p}', 'compression')\nreturn value"),
            &ProgramOptions::new().no_sync(true),
        )
        .unwrap();
    assert!(
        matches!(out.get("return"), Some(NvValue::String(_))),
        "{out:?}"
    );
}

#[test]
#[ignore = "needs ZFS"]
fn program_failures_are_distinct_errors() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name();
    let run = |code: &str, opts: ProgramOptions| zfs.program(p, code, &opts).unwrap_err();

    let e = run("return (", ProgramOptions::new());
    assert_eq!(e.kind(), ErrorKind::ProgramSyntax, "{e}");
    let e = run("error('boom')", ProgramOptions::new());
    assert_eq!(e.kind(), ErrorKind::ProgramRuntime, "{e}");
    assert!(e.message().contains("boom"), "{e}");
    let e = run(
        "while true do end",
        ProgramOptions::new().instruction_limit(10_000),
    );
    assert_eq!(e.kind(), ErrorKind::InstructionLimit, "{e}");
    let e = run(
        "t = {}\nfor i = 1, 10000000 do t[i] = 'xxxxxxxxxxxxxxxx' .. i end",
        ProgramOptions::new()
            .instruction_limit(100_000_000)
            .memory_limit(1 << 20),
    );
    assert_eq!(e.kind(), ErrorKind::MemoryLimit, "{e}");
    for opts in [
        ProgramOptions::new().instruction_limit(0),
        ProgramOptions::new().instruction_limit(100_000_001),
        ProgramOptions::new().memory_limit(0),
        ProgramOptions::new().memory_limit(200 << 20),
    ] {
        assert_eq!(
            zfs.program(p, "return 1", &opts).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    let e = zfs
        .program(
            &zfs_core::PoolName::new("nosuchpool").unwrap(),
            "return 1",
            &ProgramOptions::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[test]
#[ignore = "needs ZFS"]
fn space_between_snapshots_and_send_size_estimates() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    CreateDataset::filesystem(DatasetName::new(format!("{p}/a")).unwrap())
        .property("mountpoint", "legacy")
        .property("compression", "off")
        .create(&zfs)
        .unwrap();
    let a = zfs.dataset(&any(format!("{p}/a"))).unwrap();
    let mnt = tempfile::tempdir().unwrap();
    a.mount_at(mnt.path()).unwrap();
    std::fs::write(mnt.path().join("one"), vec![7u8; 4 << 20]).unwrap();
    zfs.snapshot(&[snap(format!("{p}/a@s1"))], &[]).unwrap();
    std::fs::remove_file(mnt.path().join("one")).unwrap();
    std::fs::write(mnt.path().join("two"), vec![9u8; 2 << 20]).unwrap();
    zfs.snapshot(&[snap(format!("{p}/a@s2"))], &[]).unwrap();
    unmount(&a);

    let full = zfs
        .send_space(&snap(format!("{p}/a@s1")), None, SendFlags::empty())
        .unwrap();
    assert!(full >= 4 << 20, "full stream estimate {full}");
    let incr = zfs
        .send_space(
            &snap(format!("{p}/a@s2")),
            Some(&inc(format!("{p}/a@s1"))),
            SendFlags::empty(),
        )
        .unwrap();
    assert!(
        incr >= 2 << 20 && incr < full,
        "incremental estimate {incr} vs full {full}"
    );
    let used = zfs
        .reclaimable_space(&snap(format!("{p}/a@s1")), &snap(format!("{p}/a@s1")))
        .unwrap();
    assert!(
        used >= 4 << 20,
        "s1 alone holds the deleted 4 MiB file: {used}"
    );

    let e = zfs
        .reclaimable_space(&snap(format!("{p}/a@s2")), &snap(format!("{p}/a@s1")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let e = zfs
        .send_space(&snap(format!("{p}/a@ghost")), None, SendFlags::empty())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
