//! The deduplication table (OpenZFS 2.3): `zpool ddtprune` and `zpool prefetch -t ddt`.

#[cfg(zfs_2_3)]
use libzfs_sys as sys;

use super::Pool;
use crate::{Error, ErrorKind, Result};

/// Which unique (never deduplicated) entries [`Pool::ddt_prune`] drops from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DdtPrune {
    /// Those older than this many days (`-d DAYS`).
    OlderThanDays(u64),
    /// This percentage of them, oldest first (`-p PERCENT`, 1 to 100).
    Percent(u64),
}

impl Pool<'_> {
    /// Drops unique entries from the deduplication table (`zpool ddtprune`, OpenZFS 2.3 and
    /// later): blocks written once and never matched since keep their data but can no longer
    /// be deduplicated against, and the table shrinks.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a percentage outside 1..=100 or 0 days;
    /// [`ErrorKind::NotSupported`] before 2.3 or without the `fast_dedup` feature.
    #[doc(alias = "zpool_ddt_prune")]
    pub fn ddt_prune(&self, which: DdtPrune) -> Result<()> {
        let op = "prune the dedup table of";
        let pool = self.name.as_str();
        let (flag, number, valid) = match which {
            DdtPrune::OlderThanDays(d) => ("-d", d, d > 0),
            DdtPrune::Percent(p) => ("-p", p, (1..=100).contains(&p)),
        };
        if !valid {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                pool,
                format!("{which:?} is out of range"),
            ));
        }
        #[cfg(zfs_2_3)]
        {
            use sys::zpool_ddt_prune_unit_t as U;
            // libzfs takes an age in seconds, as the CLI passes it.
            let (unit, amount) = match which {
                DdtPrune::OlderThanDays(d) => (U::ZPOOL_DDT_PRUNE_AGE, d.saturating_mul(86_400)),
                DdtPrune::Percent(p) => (U::ZPOOL_DDT_PRUNE_PERCENTAGE, p),
            };
            let command = || format!("zpool ddtprune {flag} {number} {pool}");
            self.zfs.check_logged(op, pool, command, || {
                // SAFETY: live pool handle; plain arguments.
                unsafe { sys::zpool_ddt_prune(self.raw().ptr(), unit, amount) }
            })
        }
        #[cfg(not(zfs_2_3))]
        {
            let _ = (flag, number);
            Err(Error::new(
                ErrorKind::NotSupported,
                op,
                pool,
                "ddtprune needs OpenZFS 2.3",
            ))
        }
    }

    /// Loads the pool's deduplication table into memory (`zpool prefetch -t ddt`, OpenZFS 2.3
    /// and later), so the first deduplicated writes after an import do not wait for it.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`] before 2.3.
    #[doc(alias = "zpool_prefetch")]
    pub fn prefetch_ddt(&self) -> Result<()> {
        let op = "prefetch the dedup table of";
        let pool = self.name.as_str();
        #[cfg(zfs_2_3)]
        return self.zfs.check_logged(
            op,
            pool,
            || format!("zpool prefetch -t ddt {pool}"),
            || {
                // SAFETY: live pool handle.
                unsafe {
                    sys::zpool_prefetch(
                        self.raw().ptr(),
                        sys::zpool_prefetch_type_t::ZPOOL_PREFETCH_DDT,
                    )
                }
            },
        );
        #[cfg(not(zfs_2_3))]
        Err(Error::new(
            ErrorKind::NotSupported,
            op,
            pool,
            "prefetch needs OpenZFS 2.3",
        ))
    }
}
