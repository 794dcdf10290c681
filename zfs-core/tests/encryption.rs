//! Native encryption with keys given from Rust, cross-checked against the `zfs` CLI.

mod common;

use std::path::Path;

use common::*;
use zfs_core::testing::FilePool;
use zfs_core::{ChangeKeyOptions, CreateDataset, CreatePool, ErrorKind, Key, KeyStatus, VdevSpec};

const PASS: &str = "correct horse battery staple";

/// The least rounds OpenZFS accepts: the derivation runs in the test under emulation.
fn passphrase(p: &str) -> Key {
    Key::passphrase(p)
        .unwrap()
        .pbkdf2_iterations(100_000)
        .unwrap()
}

fn key_file(dir: &Path, name: &str, contents: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    format!("file://{}", p.display())
}

#[test]
#[ignore = "needs ZFS"]
fn passphrase_dataset_round_trip_unload_and_reload() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let name = format!("{p}/secret");
    CreateDataset::filesystem(ds(&name))
        .property("mountpoint", "legacy")
        .encryption(passphrase(PASS))
        .create(&zfs)
        .unwrap();
    let fs = zfs.dataset(&any(&name)).unwrap();
    assert_eq!(zfs_get(&name, "encryption").0, "aes-256-gcm");
    assert_eq!(zfs_get(&name, "keyformat").0, "passphrase");
    assert_eq!(zfs_get(&name, "keylocation").0, "prompt");
    assert_eq!(zfs_get(&name, "pbkdf2iters").0, "100000");
    assert_eq!(zfs_get(&name, "keystatus").0, "available");
    assert_eq!(fs.key_status().unwrap(), KeyStatus::Available);
    assert_eq!(
        fs.encryption_root().unwrap().as_deref(),
        Some(name.as_str())
    );

    // A child inherits the encryption and the key.
    CreateDataset::filesystem(ds(format!("{name}/child")))
        .create(&zfs)
        .unwrap();
    let child = zfs.dataset(&any(format!("{name}/child"))).unwrap();
    assert_eq!(
        child.encryption_root().unwrap().as_deref(),
        Some(name.as_str())
    );
    assert_eq!(
        child.load_key(&passphrase(PASS)).unwrap_err().kind(),
        ErrorKind::InvalidArgument,
        "keys are loaded at the encryption root"
    );

    // Data written under the key survives an unload and a reload.
    let mnt = tempfile::tempdir().unwrap();
    fs.mount_at(mnt.path()).unwrap();
    std::fs::write(mnt.path().join("f"), b"hidden").unwrap();
    let e = fs.unload_key().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(fs.key_status().unwrap(), KeyStatus::Available);
    unmount(&fs);
    fs.unload_key().unwrap();
    assert_eq!(fs.key_status().unwrap(), KeyStatus::Unavailable);
    assert_eq!(zfs_get(&name, "keystatus").0, "unavailable");
    assert!(fs.mount_at(mnt.path()).is_err(), "no key, no mount");
    assert_eq!(
        fs.unload_key().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    let e = fs
        .load_key(&passphrase("wrong horse battery staple"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongKey, "{e}");
    assert_eq!(fs.key_status().unwrap(), KeyStatus::Unavailable);
    let e = fs.load_key(&Key::raw(&[1; 32]).unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongKey, "{e}");
    fs.check_key(&passphrase(PASS)).unwrap();
    assert_eq!(
        fs.key_status().unwrap(),
        KeyStatus::Unavailable,
        "check only"
    );
    fs.load_key(&passphrase(PASS)).unwrap();
    assert_eq!(fs.key_status().unwrap(), KeyStatus::Available);
    assert_eq!(
        fs.load_key(&passphrase(PASS)).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    fs.mount_at(mnt.path()).unwrap();
    assert_eq!(std::fs::read(mnt.path().join("f")).unwrap(), b"hidden");
    unmount(&fs);
}

#[test]
#[ignore = "needs ZFS"]
fn keys_agree_with_the_zfs_cli_both_ways() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let dir = tempfile::tempdir().unwrap();
    let loc = key_file(dir.path(), "pass", PASS.as_bytes());

    // Made by the CLI (default 350 000 rounds), loaded by us: the derivation matches libzfs.
    let by_cli = format!("{p}/by-cli");
    cli(
        "zfs",
        &[
            "create",
            "-o",
            "encryption=aes-128-gcm",
            "-o",
            "keyformat=passphrase",
            "-o",
            &format!("keylocation={loc}"),
            &by_cli,
        ],
    );
    cli("zfs", &["unload-key", &by_cli]);
    let d = zfs.dataset(&any(&by_cli)).unwrap();
    assert_eq!(d.key_status().unwrap(), KeyStatus::Unavailable);
    d.load_key(&Key::passphrase(PASS).unwrap()).unwrap();
    assert_eq!(zfs_get(&by_cli, "keystatus").0, "available");

    // Made by us with a hex key, loaded by the CLI from a file.
    let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let by_us = format!("{p}/by-us");
    CreateDataset::filesystem(ds(&by_us))
        .property("encryption", "aes-256-ccm")
        .encryption(Key::hex(hex).unwrap())
        .create(&zfs)
        .unwrap();
    let d = zfs.dataset(&any(&by_us)).unwrap();
    assert_eq!(zfs_get(&by_us, "encryption").0, "aes-256-ccm");
    assert_eq!(zfs_get(&by_us, "keyformat").0, "hex");
    d.unload_key().unwrap();
    let hex_loc = key_file(dir.path(), "hex", hex.as_bytes());
    cli("zfs", &["load-key", "-L", &hex_loc, &by_us]);
    assert_eq!(d.key_status().unwrap(), KeyStatus::Available);
}

#[test]
#[ignore = "needs ZFS"]
fn change_key_and_inherit_key() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    let top = format!("{p}/top");
    CreateDataset::filesystem(ds(&top))
        .encryption(Key::raw(&[3; 32]).unwrap())
        .create(&zfs)
        .unwrap();
    let t = zfs.dataset(&any(&top)).unwrap();
    assert_eq!(zfs_get(&top, "keyformat").0, "raw");
    let sub = format!("{top}/sub");
    CreateDataset::filesystem(ds(&sub))
        .encryption(passphrase(PASS))
        .create(&zfs)
        .unwrap();
    let s = zfs.dataset(&any(&sub)).unwrap();
    assert_eq!(s.encryption_root().unwrap().as_deref(), Some(sub.as_str()));

    // New passphrase on sub: the old one stops working, the new one works.
    s.change_key(
        &passphrase("a brand new passphrase"),
        &ChangeKeyOptions::new(),
    )
    .unwrap();
    s.unload_key().unwrap();
    assert_eq!(
        s.load_key(&passphrase(PASS)).unwrap_err().kind(),
        ErrorKind::WrongKey
    );
    s.load_key(&passphrase("a brand new passphrase")).unwrap();
    assert_eq!(zfs_get(&sub, "keylocation").0, "prompt");

    // A keylocation goes with the new key as `zfs change-key -o keylocation=` sets it; a
    // malformed one is refused before anything changes.
    let keyfile = format!("file:///run/{}-sub.key", std::process::id());
    let e = s
        .change_key(
            &passphrase("yet another passphrase"),
            &ChangeKeyOptions::new().keylocation("relative/path"),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
    assert_eq!(zfs_get(&sub, "keylocation").0, "prompt");
    s.unload_key().unwrap();
    s.load_key(&passphrase("a brand new passphrase")).unwrap();
    s.change_key(
        &passphrase("yet another passphrase"),
        &ChangeKeyOptions::new().keylocation(&keyfile),
    )
    .unwrap();
    assert_eq!(
        zfs_get(&sub, "keylocation"),
        (keyfile.clone(), "local".to_owned())
    );
    s.unload_key().unwrap();
    s.load_key(&passphrase("yet another passphrase")).unwrap();
    // Without a keylocation, an encryption root keeps its own, as `zfs change-key` does.
    s.change_key(
        &passphrase("and one more passphrase"),
        &ChangeKeyOptions::new(),
    )
    .unwrap();
    assert_eq!(zfs_get(&sub, "keylocation"), (keyfile, "local".to_owned()));
    s.unload_key().unwrap();
    s.load_key(&passphrase("and one more passphrase")).unwrap();

    // `-o keyformat=` and `-o pbkdf2iters=` are the new key's own: a hex key, then a
    // passphrase with more rounds, each shown by `zfs get` and each the one that loads.
    let hex = Key::hex(&"ab".repeat(32)).unwrap();
    s.change_key(&hex, &ChangeKeyOptions::new()).unwrap();
    assert_eq!(zfs_get(&sub, "keyformat").0, "hex");
    s.unload_key().unwrap();
    s.load_key(&hex).unwrap();
    let slow = passphrase("rounds of its own")
        .pbkdf2_iterations(200_000)
        .unwrap();
    s.change_key(&slow, &ChangeKeyOptions::new()).unwrap();
    assert_eq!(zfs_get(&sub, "keyformat").0, "passphrase");
    assert_eq!(zfs_get(&sub, "pbkdf2iters").0, "200000");
    s.unload_key().unwrap();
    assert_eq!(s.load_key(&hex).unwrap_err().kind(), ErrorKind::WrongKey);
    s.load_key(&slow).unwrap();

    // Back under top's key: sub is no encryption root any more.
    s.inherit_key().unwrap();
    assert_eq!(s.encryption_root().unwrap().as_deref(), Some(top.as_str()));
    assert_eq!(zfs_get(&sub, "encryptionroot").0, top);
    // Unloading top's key now covers sub too (nothing mounted: legacy is not needed, the
    // datasets were never mounted by lzc_create).
    t.unload_key().unwrap();
    assert_eq!(s.key_status().unwrap(), KeyStatus::Unavailable);
    // Changing a key that is not loaded is refused.
    let e = t
        .change_key(&Key::raw(&[4; 32]).unwrap(), &ChangeKeyOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    t.load_key(&Key::raw(&[3; 32]).unwrap()).unwrap();
    assert_eq!(s.key_status().unwrap(), KeyStatus::Available);
}

#[test]
#[ignore = "needs ZFS"]
fn encryption_errors_change_nothing() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    CreateDataset::filesystem(ds(format!("{p}/plain")))
        .create(&zfs)
        .unwrap();
    let plain = zfs.dataset(&any(format!("{p}/plain"))).unwrap();
    let before = all(&zfs, p);

    assert_eq!(plain.key_status().unwrap(), KeyStatus::None);
    assert_eq!(plain.encryption_root().unwrap(), None);
    for e in [
        plain.load_key(&passphrase(PASS)).unwrap_err(),
        plain.unload_key().unwrap_err(),
        plain
            .change_key(&passphrase(PASS), &ChangeKeyOptions::new())
            .unwrap_err(),
        plain.inherit_key().unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().contains("not encrypted"), "{e}");
    }

    // Bad cipher, key properties given by hand, encryption=off with a key.
    for (k, v, kind) in [
        ("encryption", "rot13", ErrorKind::InvalidProperty),
        ("keyformat", "raw", ErrorKind::InvalidProperty),
        ("pbkdf2iters", "100000", ErrorKind::InvalidProperty),
        ("keylocation", "nonsense:/key", ErrorKind::InvalidProperty),
        ("encryption", "off", ErrorKind::InvalidArgument),
    ] {
        let e = CreateDataset::filesystem(ds(format!("{p}/enc")))
            .property(k, v)
            .encryption(passphrase(PASS))
            .create(&zfs)
            .map(|_| ())
            .expect_err(&format!("{k}={v} must be refused"));
        assert_eq!(e.kind(), kind, "{k}={v}: {e}");
    }
    // A missing parent without create_parents.
    let e = CreateDataset::filesystem(ds(format!("{p}/no/enc")))
        .encryption(passphrase(PASS))
        .create(&zfs)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(all(&zfs, p), before, "nothing was created");
    assert_eq!(plain.property("encryption").unwrap().value, "off");
}

/// `zpool create -O encryption=on` with the key from Rust, for each key format: the root is
/// the encryption root with the `keylocation` asked for (`prompt` by default), the CLI loads
/// it with the same key from a file and refuses a wrong one.
/// Without a key libzfs would prompt: refused, with no pool made.
#[test]
#[ignore = "needs ZFS"]
fn an_encrypted_pool_root_takes_its_key_from_rust() {
    let zfs = zfs();
    let dir = tempfile::tempdir().unwrap();
    let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let raw = [9u8; 32];
    let cases: [(Key, &[u8], Option<&str>); 3] = [
        (passphrase(PASS), PASS.as_bytes(), None),
        (
            Key::hex(hex).unwrap(),
            hex.as_bytes(),
            Some("file:///etc/zfs/none.key"),
        ),
        (Key::raw(&raw).unwrap(), &raw, None),
    ];
    for (i, (key, file_form, location)) in cases.into_iter().enumerate() {
        let name = unique("encroot");
        let vdev = sparse(dir.path(), &format!("v{i}"), 128 << 20);
        let mut create = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
            .pool_property("cachefile", "none")
            .mountpoint("none")
            .encryption(key.clone());
        if let Some(loc) = location {
            create = create.fs_property("keylocation", loc);
        }
        drop(create.create(&zfs).unwrap());
        let p = name.as_str();
        assert_eq!(zfs_get(p, "encryptionroot").0, p);
        assert_eq!(zfs_get(p, "keystatus").0, "available");
        assert_eq!(zfs_get(p, "keyformat").0, key.format().as_str());
        assert_eq!(
            zfs_get(p, "keylocation"),
            (location.unwrap_or("prompt").into(), "local".into())
        );
        // The CLI loads it with the same key, and refuses another.
        cli("zfs", &["unload-key", p]);
        let wrong = key_file(dir.path(), "wrong", b"not the key at all, not at all");
        let e = cli_fails("zfs", &["load-key", "-L", &wrong, p]);
        assert!(!e.is_empty());
        let right = key_file(dir.path(), "right", file_form);
        cli("zfs", &["load-key", "-L", &right, p]);
        assert_eq!(zfs_get(p, "keystatus").0, "available");
        zfs.destroy_pool(&name).unwrap();
    }

    // Encryption asked for without a key: libzfs would prompt. Refused, nothing made.
    let name = unique("encroot");
    let vdev = sparse(dir.path(), "none", 128 << 20);
    let e = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
        .fs_property("encryption", "on")
        .fs_property("keyformat", "passphrase")
        .create(&zfs)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(!zfs.pool_exists(&name));
    let e = CreatePool::new(name.clone(), VdevSpec::new().file(&vdev))
        .fs_property("keyformat", "passphrase")
        .encryption(passphrase(PASS))
        .create(&zfs)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidProperty, "{e}");
    assert!(!zfs.pool_exists(&name));
}
