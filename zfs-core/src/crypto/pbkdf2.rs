//! PBKDF2-HMAC-SHA1 (RFC 8018 section 5.2, with RFC 2104's HMAC): how OpenZFS stretches a
//! passphrase into a wrapping key (`keyformat=passphrase`, `pbkdf2iters` rounds).
//!
//! Written out over `sha1`'s block function rather than through the generic `pbkdf2` and
//! `hmac` crates: generic code is compiled where it is instantiated, at this crate's
//! optimisation level, and unoptimized (the workspace's test builds) it took 0.7 s for 100 000
//! rounds, many seconds under the test VM's emulation. Here the padded key's inner and outer
//! states are worked out once, and each round is two calls of the block function (optimized in
//! its own crate) on one block, as fast at any level. Checked against the RFC 6070 vectors and
//! the `pbkdf2` crate in the tests below, and against OpenZFS itself in the ZFS tests (keys
//! made by `zfs create` load from Rust, and the other way round).

use sha1::digest::generic_array::GenericArray;
use sha1::{Digest, Sha1};
use zeroize::Zeroize;

const BLOCK: usize = 64;
const DIGEST: usize = 20;
/// SHA-1's initial state.
const IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// The states after HMAC's first block, the key XOR ipad and the key XOR opad.
struct Keyed {
    inner: [u32; 5],
    outer: [u32; 5],
}

impl Drop for Keyed {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

fn compress(state: &mut [u32; 5], block: &[u8; BLOCK]) {
    sha1::compress(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

/// `words` as SHA-1 writes its digest, into `out` (the first 20 bytes of a block, or a digest).
/// No iterators: this runs twice per round, and must stay fast unoptimized.
fn put(words: &[u32; 5], out: &mut [u8]) {
    let bytes = [
        words[0].to_be_bytes(),
        words[1].to_be_bytes(),
        words[2].to_be_bytes(),
        words[3].to_be_bytes(),
        words[4].to_be_bytes(),
    ];
    out[..DIGEST].copy_from_slice(bytes.as_flattened());
}

impl Keyed {
    fn new(password: &[u8]) -> Keyed {
        // A key longer than a block is hashed first (RFC 2104).
        let mut key = [0u8; BLOCK];
        if password.len() > BLOCK {
            let mut digest = Sha1::digest(password);
            key[..DIGEST].copy_from_slice(&digest);
            digest.as_mut_slice().zeroize();
        } else {
            key[..password.len()].copy_from_slice(password);
        }
        let mut keyed = Keyed {
            inner: IV,
            outer: IV,
        };
        let mut pad = [0u8; BLOCK];
        for (p, k) in pad.iter_mut().zip(&key) {
            *p = k ^ 0x36;
        }
        compress(&mut keyed.inner, &pad);
        for (p, k) in pad.iter_mut().zip(&key) {
            *p = k ^ 0x5c;
        }
        compress(&mut keyed.outer, &pad);
        pad.zeroize();
        key.zeroize();
        keyed
    }

    /// HMAC of a 20-byte message, in place, as SHA-1 state words: after the keyed first block,
    /// the message and its padding fill exactly one more block (84 bytes hashed in all).
    ///
    /// `state` is scratch space the caller wipes once at the end: wiping it every round,
    /// volatile byte by byte, cost more than the hashing itself unoptimized.
    fn mac_words(&self, block: &mut [u8; BLOCK], u: &mut [u32; 5], state: &mut [u32; 5]) {
        put(u, block);
        *state = self.inner;
        compress(state, block);
        put(state, block);
        *u = self.outer;
        compress(u, block);
    }

    /// HMAC of a message of any length (the salt and block index: once per output block).
    fn mac(&self, message: &[u8], out: &mut [u8; DIGEST]) {
        let mut state = self.inner;
        finish(&mut state, message, out);
        let mut inner_digest = *out;
        state = self.outer;
        finish(&mut state, &inner_digest, out);
        inner_digest.zeroize();
    }
}

/// Finishes a SHA-1 whose first block (the padded key) is already in `state`, over `rest`.
fn finish(state: &mut [u32; 5], rest: &[u8], out: &mut [u8; DIGEST]) {
    let bits = ((BLOCK + rest.len()) as u64) * 8;
    // Room for the padding from the start: a buffer that grew would free its first copy unwiped.
    let mut padded = Vec::with_capacity(rest.len() + 1 + BLOCK + 8);
    padded.extend_from_slice(rest);
    padded.push(0x80);
    while padded.len() % BLOCK != BLOCK - 8 {
        padded.push(0);
    }
    padded.extend_from_slice(&bits.to_be_bytes());
    for block in padded.chunks_exact(BLOCK) {
        let block: &[u8; BLOCK] = block.try_into().expect("whole blocks");
        compress(state, block);
    }
    put(state, out);
    padded.zeroize();
    state.zeroize();
}

/// Fills `out` with PBKDF2-HMAC-SHA1 of `password` and `salt` over `rounds` rounds (at least 1).
pub(crate) fn pbkdf2_hmac_sha1(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    let keyed = Keyed::new(password);
    // The block after the key for a 20-byte message: its padding and length (84 bytes) stay.
    let mut block = [0u8; BLOCK];
    block[DIGEST] = 0x80;
    block[BLOCK - 8..].copy_from_slice(&(((BLOCK + DIGEST) as u64) * 8).to_be_bytes());
    let mut first = [0u8; DIGEST];
    let mut u = [0u32; 5];
    let mut t = [0u32; 5];
    let mut scratch = [0u32; 5];
    let mut t_bytes = [0u8; DIGEST];
    for (i, chunk) in out.chunks_mut(DIGEST).enumerate() {
        let index = u32::try_from(i + 1).expect("far fewer output blocks than 2^32");
        let mut message = Vec::with_capacity(salt.len() + 4);
        message.extend_from_slice(salt);
        message.extend_from_slice(&index.to_be_bytes());
        keyed.mac(&message, &mut first);
        message.zeroize();
        for (word, bytes) in u.iter_mut().zip(first.chunks_exact(4)) {
            *word = u32::from_be_bytes(bytes.try_into().expect("4 bytes"));
        }
        t = u;
        for _ in 1..rounds.max(1) {
            keyed.mac_words(&mut block, &mut u, &mut scratch);
            t[0] ^= u[0];
            t[1] ^= u[1];
            t[2] ^= u[2];
            t[3] ^= u[3];
            t[4] ^= u[4];
        }
        put(&t, &mut t_bytes);
        chunk.copy_from_slice(&t_bytes[..chunk.len()]);
    }
    first.zeroize();
    scratch.zeroize();
    u.zeroize();
    t.zeroize();
    t_bytes.zeroize();
    block.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn derive(password: &[u8], salt: &[u8], rounds: u32, len: usize) -> String {
        let mut out = vec![0u8; len];
        pbkdf2_hmac_sha1(password, salt, rounds, &mut out);
        hex(&out)
    }

    /// Password, salt, rounds, output length, the derived key in hex.
    type Vector = (&'static [u8], &'static [u8], u32, usize, &'static str);

    /// RFC 6070's vectors (all but the one of 16 777 216 rounds).
    #[test]
    fn rfc_6070_vectors() {
        let cases: [Vector; 5] = [
            (
                b"password",
                b"salt",
                1,
                20,
                "0c60c80f961f0e71f3a9b524af6012062fe037a6",
            ),
            (
                b"password",
                b"salt",
                2,
                20,
                "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
            ),
            (
                b"password",
                b"salt",
                4096,
                20,
                "4b007901b765489abead49d926f721d065a429c1",
            ),
            (
                b"passwordPASSWORDpassword",
                b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                4096,
                25,
                "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
            ),
            (
                b"pass\0word",
                b"sa\0lt",
                4096,
                16,
                "56fa6aa75548099dcc37d7f03425e0c3",
            ),
        ];
        for (password, salt, rounds, len, want) in cases {
            assert_eq!(derive(password, salt, rounds, len), want, "{rounds} rounds");
        }
    }

    proptest! {
        /// The same bytes as the `pbkdf2` crate for passphrases of every length OpenZFS takes
        /// (keys longer than a block are hashed first), salts as OpenZFS gives them, and
        /// output lengths across a block boundary.
        #[test]
        fn agrees_with_the_pbkdf2_crate(
            password in proptest::collection::vec(any::<u8>(), 0..600),
            salt in any::<u64>(),
            rounds in 1u32..300,
            len in 1usize..70,
        ) {
            let salt = salt.to_le_bytes();
            let mut want = vec![0u8; len];
            pbkdf2::pbkdf2_hmac::<Sha1>(&password, &salt, rounds, &mut want);
            prop_assert_eq!(derive(&password, &salt, rounds, len), hex(&want));
        }
    }
}
