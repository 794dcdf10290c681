//! Keys are wiped from every heap block zfs-core frees: this test binary's allocator scans each
//! block freed on the test's thread for the secrets in play (raw keys, passphrases, derived
//! wrapping keys: their first 16 bytes, so partial copies count too) and counts the blocks
//! that still hold one.
//!
//! What this covers: every Rust allocation of zfs-core (and of its pbkdf2/sha1 dependencies).
//! What it cannot see: libzfs_core's own copies in C (see the README's encryption notes).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use common::*;
use serial_test::serial;
use zfs_core::testing::FilePool;
use zfs_core::{ChangeKeyOptions, CreateDataset, Key};

const NEEDLE: usize = 16;
const SLOTS: usize = 8;

/// Secrets to look for, lock-free so the allocator can read them while a test adds more.
static NEEDLES: [[AtomicU8; NEEDLE]; SLOTS] =
    [const { [const { AtomicU8::new(0) }; NEEDLE] }; SLOTS];
static NEEDLE_COUNT: AtomicUsize = AtomicUsize::new(0);
static HITS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

struct Scanning;

// SAFETY: every call is passed through to the system allocator unchanged; dealloc only reads
// the block before freeing it.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.with(Cell::get) && layout.size() >= NEEDLE {
            // SAFETY: the block is live and `layout.size()` bytes long until freed below.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            for slot in NEEDLES.iter().take(NEEDLE_COUNT.load(Ordering::SeqCst)) {
                let needle: [u8; NEEDLE] = std::array::from_fn(|i| slot[i].load(Ordering::SeqCst));
                if block.windows(NEEDLE).any(|w| w == needle) {
                    HITS.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

fn watch(secret: &[u8]) {
    let at = NEEDLE_COUNT.load(Ordering::SeqCst);
    let known = NEEDLES[..at]
        .iter()
        .any(|slot| (0..NEEDLE).all(|i| slot[i].load(Ordering::SeqCst) == secret[i]));
    if known {
        return;
    }
    assert!(at < SLOTS);
    for (i, b) in secret[..NEEDLE].iter().enumerate() {
        NEEDLES[at][i].store(*b, Ordering::SeqCst);
    }
    NEEDLE_COUNT.store(at + 1, Ordering::SeqCst);
}

/// Runs `f` with the scan armed on this thread; the number of freed blocks holding a secret.
fn scanned(f: impl FnOnce()) -> usize {
    HITS.store(0, Ordering::SeqCst);
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    HITS.load(Ordering::SeqCst)
}

const RAW: [u8; 32] = *b"raw-key-0123456789abcdefghijklmn";
const NEW_RAW: [u8; 32] = *b"new-key-ZYXWVUTSRQPONMLKJIHGFEDC";
const PASSPHRASE: &str = "passphrase-with-enough-entropy-!";

#[test]
#[serial]
fn the_scan_finds_a_copy_freed_unwiped() {
    // The canary: a plain Vec holding the key, freed without wiping, must be caught.
    watch(&RAW);
    let hits = scanned(|| drop(std::hint::black_box(RAW.to_vec())));
    assert_eq!(hits, 1, "the scan must see an unwiped copy");
}

#[test]
#[serial]
fn keys_made_cloned_and_dropped_leave_no_copy() {
    watch(&RAW);
    watch(PASSPHRASE.as_bytes());
    let hits = scanned(|| {
        let raw = Key::raw(&RAW).unwrap();
        let hex: String = RAW.iter().map(|b| format!("{b:02x}")).collect();
        let from_hex = Key::hex(&hex).unwrap();
        let pass = Key::passphrase(PASSPHRASE).unwrap();
        let copies = (raw.clone(), from_hex.clone(), pass.clone());
        drop((raw, from_hex, pass, copies));
    });
    assert_eq!(hits, 0, "freed blocks still holding a key");
}

#[test]
#[ignore = "needs ZFS"]
#[serial]
fn create_load_and_change_key_leave_no_copy() {
    let f = FilePool::new().unwrap();
    let zfs = zfs();
    let p = f.name().as_str();
    watch(&RAW);
    watch(&NEW_RAW);
    watch(PASSPHRASE.as_bytes());
    let (raw_fs, pass_fs) = (format!("{p}/raw"), format!("{p}/pass"));
    let hits = scanned(|| {
        CreateDataset::filesystem(ds(&raw_fs))
            .property("mountpoint", "none")
            .encryption(Key::raw(&RAW).unwrap())
            .create(&zfs)
            .unwrap();
        let pass = Key::passphrase(PASSPHRASE)
            .unwrap()
            .pbkdf2_iterations(100_000)
            .unwrap();
        CreateDataset::filesystem(ds(&pass_fs))
            .property("mountpoint", "none")
            .encryption(pass.clone())
            .create(&zfs)
            .unwrap();
        let d = zfs.dataset(&any(&raw_fs)).unwrap();
        d.unload_key().unwrap();
        d.load_key(&Key::raw(&RAW).unwrap()).unwrap();
        d.change_key(&Key::raw(&NEW_RAW).unwrap(), &ChangeKeyOptions::new())
            .unwrap();
        let d = zfs.dataset(&any(&pass_fs)).unwrap();
        d.unload_key().unwrap();
        d.load_key(&pass).unwrap();
    });
    // The passphrase's wrapping key, derived here with the salt the dataset got.
    let d = zfs.dataset(&any(&pass_fs)).unwrap();
    let salt: u64 = d.property("pbkdf2salt").unwrap().value.parse().unwrap();
    let mut wrapping = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
        PASSPHRASE.as_bytes(),
        &salt.to_le_bytes(),
        100_000,
        &mut wrapping,
    );
    watch(&wrapping);
    let again = scanned(|| {
        d.unload_key().unwrap();
        d.check_key(&Key::passphrase(PASSPHRASE).unwrap()).unwrap();
        d.load_key(&Key::passphrase(PASSPHRASE).unwrap()).unwrap();
    });
    assert_eq!((hits, again), (0, 0), "freed blocks still holding a key");
}
