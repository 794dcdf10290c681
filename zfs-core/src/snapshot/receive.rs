//! Receiving send streams (`zfs receive`): any stream the CLI takes, or one plain stream into
//! one snapshot through libzfs_core.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use libzfs_sys as sys;

use crate::handle::{lzc, Zfs};
use crate::name::{AnyName, DatasetName, SnapshotName, ZfsName};
use crate::nvlist::{NvList, NvValue};
use crate::{Error, ErrorKind, Result};

use super::stream_header::{StreamHeader, StreamKind, BEGIN_RECORD_LEN};

/// Options of [`Zfs::receive`]: `zfs receive [-F] [-u] [-o origin=SNAP] [-o PROP=VALUE]`.
/// Off by default, as the command without options: received filesystems are mounted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveOptions {
    pub(crate) force: bool,
    pub(crate) no_mount: bool,
    pub(crate) origin: Option<SnapshotName>,
    pub(crate) props: Vec<(String, String)>,
    pub(crate) excluded: Vec<String>,
    pub(crate) resumable: bool,
    pub(crate) heal: bool,
}

impl ReceiveOptions {
    /// No options, as `zfs receive TARGET`.
    pub fn new() -> ReceiveOptions {
        ReceiveOptions::default()
    }

    /// `-F`: roll the target back to its latest snapshot first (and, for `-R` streams,
    /// destroy what the sender no longer has).
    pub fn force(mut self, yes: bool) -> ReceiveOptions {
        self.force = yes;
        self
    }

    /// `-c`: a corrective receive (OpenZFS 2.2 and later): `target` is an existing snapshot,
    /// and blocks of it that fail their checksum on this pool are rewritten from the
    /// stream's copies, which must be of that same snapshot. Nothing else changes.
    pub fn heal(mut self, yes: bool) -> ReceiveOptions {
        self.heal = yes;
        self
    }

    /// `-x PROP`: do not take the stream's value of `name`: the received dataset inherits
    /// it (or keeps its default), as if the sender had never set it.
    pub fn exclude_property(mut self, name: &str) -> ReceiveOptions {
        self.excluded.push(name.to_owned());
        self
    }

    /// `-s`: if the stream is cut off, keep what was received and record where it stopped
    /// (the target's [`receive_resume_token`](crate::Dataset::receive_resume_token)), so that
    /// [`Zfs::send_resume`] can send the rest; [`Zfs::abort_receive`] throws it away.
    pub fn resumable(mut self, yes: bool) -> ReceiveOptions {
        self.resumable = yes;
        self
    }

    /// `-u`: leave received filesystems unmounted.
    pub fn no_mount(mut self, yes: bool) -> ReceiveOptions {
        self.no_mount = yes;
        self
    }

    /// `-o origin=SNAP`: receive a full stream as a clone of `snapshot`.
    pub fn origin(mut self, snapshot: SnapshotName) -> ReceiveOptions {
        self.origin = Some(snapshot);
        self
    }

    /// `-o PROP=VALUE`: set a property on the received dataset (locally, overriding the
    /// stream's).
    pub fn property(mut self, name: &str, value: &str) -> ReceiveOptions {
        self.props.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Options of [`Zfs::receive_snapshot`] (`lzc_receive`): the few `zfs receive` options a
/// plain stream into one snapshot takes. Off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveSnapshotOptions {
    pub(crate) force: bool,
    pub(crate) raw: bool,
    pub(crate) origin: Option<SnapshotName>,
    pub(crate) props: Vec<(String, String)>,
    pub(crate) local_props: Vec<(String, String)>,
    pub(crate) resumable: bool,
}

impl ReceiveSnapshotOptions {
    /// No options, as `zfs receive SNAPSHOT`.
    pub fn new() -> ReceiveSnapshotOptions {
        ReceiveSnapshotOptions::default()
    }

    /// `-F`: roll the target back to its latest snapshot first.
    pub fn force(mut self, yes: bool) -> ReceiveSnapshotOptions {
        self.force = yes;
        self
    }

    /// `-s`: keep a cut-off stream's data and a resume token (see
    /// [`ReceiveOptions::resumable`]).
    pub fn resumable(mut self, yes: bool) -> ReceiveSnapshotOptions {
        self.resumable = yes;
        self
    }

    /// The stream is raw (`zfs send -w`): encrypted blocks stay encrypted.
    pub fn raw(mut self, yes: bool) -> ReceiveSnapshotOptions {
        self.raw = yes;
        self
    }

    /// For a full stream: receive it as a clone of `snapshot` (`-o origin=SNAP`).
    pub fn origin(mut self, snapshot: SnapshotName) -> ReceiveSnapshotOptions {
        self.origin = Some(snapshot);
        self
    }

    /// A property set on the received dataset as a received value (source `received`), as
    /// if the sender had sent it: a local value, or a later `zfs inherit -S`, overrides it.
    /// Checked and converted by libzfs as `zfs receive -o` does.
    pub fn property(mut self, name: &str, value: &str) -> ReceiveSnapshotOptions {
        self.props.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A property set on the received dataset as a local value (source `local`), as
    /// `zfs receive -o PROP=VALUE` sets it: it overrides a received value of the same
    /// property. Received and local values may be given together, even for one property
    /// (`zfs get` then shows the local one, and `zfs inherit -S` goes back to the received).
    pub fn local_property(mut self, name: &str, value: &str) -> ReceiveSnapshotOptions {
        self.local_props.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// `-c` into the flags, where the headers have it.
#[cfg(zfs_2_2)]
fn set_heal(flags: &mut sys::recvflags_t, heal: bool, _target: &str) -> Result<()> {
    flags.heal = crate::handle::boolean(heal);
    Ok(())
}

/// Corrective receive arrived with OpenZFS 2.2.
#[cfg(not(zfs_2_2))]
fn set_heal(_flags: &mut sys::recvflags_t, heal: bool, target: &str) -> Result<()> {
    if heal {
        return Err(Error::new(
            ErrorKind::NotSupported,
            "receive",
            target,
            "corrective receive needs OpenZFS 2.2 or later",
        ));
    }
    Ok(())
}

/// What [`Zfs::receive_snapshot`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiveStats {
    /// Bytes of the stream read, its begin record included.
    pub bytes: u64,
    /// The stream's first record: what was received (the sender's snapshot name, its GUID,
    /// the snapshot an incremental started from, the stream's features).
    pub header: StreamHeader,
}

impl Zfs {
    /// Reads one plain send stream (`zfs send` without `-p`/`-R`) from `fd` into exactly
    /// `snapshot`, through libzfs_core (the dataset is created for a full stream): like
    /// `zfs receive -u SNAPSHOT`, nothing is mounted. Properties given are set as received
    /// ([`ReceiveSnapshotOptions::property`]) or local
    /// ([`ReceiveSnapshotOptions::local_property`]) values; if the kernel refuses one (a `quota` below what the stream holds), the receive
    /// is undone and the error lists each refused property. A stream that ends early or is
    /// corrupt fails cleanly: no partial dataset or snapshot is left visible (unless
    /// [`ReceiveSnapshotOptions::resumable`]). [`Zfs::receive`] takes any stream.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] if the target exists (full stream) or has changed
    /// (incremental, without `force`); [`ErrorKind::InvalidArgument`] for a bad stream;
    /// [`ErrorKind::Io`] / others from the descriptor; [`ErrorKind::InvalidProperty`], with
    /// [`Error::failures`] naming each, for properties the received dataset cannot take.
    ///
    /// Returns how much of the stream was read: all of it, on success.
    #[doc(alias = "lzc_receive_one")]
    #[doc(alias = "lzc_receive_with_cmdprops")]
    pub fn receive_snapshot(
        &self,
        snapshot: &SnapshotName,
        fd: impl AsFd,
        opts: &ReceiveSnapshotOptions,
    ) -> Result<ReceiveStats> {
        self.receive_snapshot_from(snapshot, None, fd.as_fd(), opts)
    }

    /// Receives the rest of a plain stream whose first record was read with
    /// [`StreamHeader::read`], as [`Zfs::receive_snapshot`] does (`lzc_receive_with_header`):
    /// for a caller that decides where a stream goes from what it is (its sender's name,
    /// GUIDs, features), or that refuses some streams before anything is received.
    ///
    /// # Errors
    /// As [`Zfs::receive_snapshot`]; [`ErrorKind::InvalidArgument`] (reason
    /// [`BadStream`](crate::Reason::BadStream)) for a package stream (`zfs send -p`/`-R`),
    /// which only [`Zfs::receive`] takes, before anything is read.
    #[doc(alias = "lzc_receive_with_header")]
    pub fn receive_snapshot_with_header(
        &self,
        snapshot: &SnapshotName,
        header: &StreamHeader,
        fd: impl AsFd,
        opts: &ReceiveSnapshotOptions,
    ) -> Result<ReceiveStats> {
        self.receive_snapshot_from(snapshot, Some(header), fd.as_fd(), opts)
    }

    /// One copy of the bodies above, whatever the argument types; reads the header first
    /// unless it was read already.
    fn receive_snapshot_from(
        &self,
        snapshot: &SnapshotName,
        header: Option<&StreamHeader>,
        fd: BorrowedFd<'_>,
        opts: &ReceiveSnapshotOptions,
    ) -> Result<ReceiveStats> {
        let op = "receive";
        let snap = CString::new(snapshot.as_str()).expect("no NUL");
        let origin = opts
            .origin
            .as_ref()
            .map(|o| CString::new(o.as_str()).expect("no NUL"));
        let props = self.received_props(snapshot, &opts.props)?;
        let cmdprops = self.received_props(snapshot, &opts.local_props)?;
        let b = crate::handle::boolean;
        let raw_fd = fd.as_raw_fd();
        let read;
        let header = match header {
            Some(h) => h,
            None => {
                read = StreamHeader::read(fd).map_err(|e| {
                    e.with_operation(op)
                        .with_object(snapshot.as_str().to_owned())
                })?;
                &read
            }
        };
        if header.kind() == StreamKind::Package {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                snapshot.as_str(),
                "a package stream (zfs send -p, -R or -I) is received with Zfs::receive",
            )
            .with_reason(crate::Reason::BadStream));
        }
        // What an undo goes back to if a property cannot be set.
        let dataset = snapshot.dataset();
        let before = if props.is_empty() && cmdprops.is_empty() {
            None
        } else {
            self.before_receive(&dataset)?
        };
        let locals = self.local_values(&dataset, &opts.local_props)?;
        let (mut read_bytes, mut errflags, mut action_handle) = (0u64, 0u64, 0u64);
        let mut errors: *mut sys::nvlist_t = std::ptr::null_mut();
        // SAFETY: NUL-terminated names, live property lists, no key data (a raw stream keeps
        // its keys), a borrowed open descriptor positioned after the begin record in `header`
        // (which the call reads, one record long); no cleanup descriptor; the out-parameters
        // live for the call and `errors` becomes a list we own.
        let rc = unsafe {
            sys::lzc_receive_with_cmdprops(
                snap.as_ptr(),
                props.as_ptr(),
                cmdprops.as_ptr(),
                std::ptr::null_mut(),
                0,
                origin.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
                b(opts.force),
                b(opts.resumable),
                b(opts.raw),
                raw_fd,
                header.record().as_ptr().cast(),
                -1,
                &mut read_bytes,
                &mut errflags,
                &mut action_handle,
                &mut errors,
            )
        };
        let errors = (!errors.is_null()).then(|| {
            // SAFETY: handed to us by the receive; freed once when dropped.
            unsafe { NvList::from_raw(errors) }
        });
        if rc == 0 {
            let failed: Vec<(String, i32)> = errors
                .iter()
                .flat_map(|list| list.iter())
                .filter_map(|pair| match pair.value() {
                    NvValue::I32(errno) => Some((pair.name().into_owned(), errno)),
                    _ => None,
                })
                .collect();
            if !failed.is_empty() {
                let e = Error::from_batch(op, snapshot.as_str(), failed[0].1, failed)
                    .with_kind(ErrorKind::InvalidProperty);
                let e = self.undo_receive(&dataset, before, e);
                return Err(self.restore_local_values(&dataset, &locals, e));
            }
        }
        lzc(op, snapshot.as_str(), rc).map_err(|e| match e.errno().map(|n| n.0) {
            Some(libc::ENODEV) => e
                .with_kind(ErrorKind::InvalidArgument)
                .with_message("the target does not have the incremental stream's source snapshot")
                .with_reason(crate::Reason::StreamMismatch),
            Some(libc::ETXTBSY) => e
                .with_message("the destination has been modified since its most recent snapshot")
                .with_reason(crate::Reason::DestinationModified),
            Some(libc::EEXIST) => e.with_reason(if self.exists(snapshot) {
                crate::Reason::SnapshotExists
            } else {
                crate::Reason::DatasetExists
            }),
            Some(libc::EINVAL) => e.with_reason(crate::Reason::BadStream),
            Some(libc::ENOENT) => e.with_reason(crate::Reason::DatasetNotFound),
            _ => e,
        })?;
        Ok(ReceiveStats {
            bytes: read_bytes + BEGIN_RECORD_LEN as u64,
            header: header.clone(),
        })
    }

    /// Takes back a receive into `target` whose properties could not all be set, and says
    /// which failed (`listed`): a dataset the receive created (`before` is `None`) is
    /// destroyed, one that existed is rolled back to its latest snapshot before the receive.
    fn undo_receive(
        &self,
        target: &DatasetName,
        before: Option<Option<SnapshotName>>,
        error: Error,
    ) -> Error {
        let undone = match before {
            None => self
                .destroy(target, &crate::DestroyOptions::new().recursive(true))
                .map(|()| "the received dataset was destroyed"),
            Some(Some(latest)) => self
                .rollback(&latest, &crate::RollbackOptions::new().destroy_newer(true))
                .map(|()| "the dataset was rolled back to where it was"),
            Some(None) => Ok("the received data stays"),
        };
        let listed = error.message().to_owned();
        match undone {
            Ok(what) => error.with_message(format!("properties not set ({listed}); {what}")),
            Err(undo) => error.with_message(format!(
                "properties not set ({listed}); undoing the receive failed too: {undo}"
            )),
        }
    }

    /// What an existing `target` holds locally of the properties a receive will set as local
    /// values: each name with its local value, or `None` where it has none. A rollback does
    /// not touch properties, so an undo puts these back itself.
    fn local_values(
        &self,
        target: &DatasetName,
        props: &[(String, String)],
    ) -> Result<Vec<(String, Option<String>)>> {
        if props.is_empty() || !self.exists(target) {
            return Ok(Vec::new());
        }
        let ds = self.dataset(target)?;
        props
            .iter()
            .map(|(name, _)| {
                let v = ds.property(name)?;
                let local = v.source == crate::PropSource::Local;
                Ok((name.clone(), local.then_some(v.value)))
            })
            .collect()
    }

    /// Puts back what [`Zfs::local_values`] read, after an undone receive; says so in
    /// `error`'s message if it cannot.
    fn restore_local_values(
        &self,
        target: &DatasetName,
        locals: &[(String, Option<String>)],
        error: Error,
    ) -> Error {
        if locals.is_empty() {
            return error;
        }
        let restored = self.dataset(target).and_then(|ds| {
            for (name, value) in locals {
                match value {
                    Some(v) => ds.set_property(name, v)?,
                    None => ds.inherit(name, &crate::InheritOptions::new())?,
                }
            }
            Ok(())
        });
        match restored {
            Ok(()) => error,
            Err(e) => {
                let said = error.message().to_owned();
                error.with_message(format!(
                    "{said}; putting back the local properties failed: {e}"
                ))
            }
        }
    }

    /// Where an undo of a receive into `target` would go back to: `None` if it does not
    /// exist, else its latest snapshot (if any). Only asked for when properties are set.
    fn before_receive(&self, target: &DatasetName) -> Result<Option<Option<SnapshotName>>> {
        if !self.exists(target) {
            return Ok(None);
        }
        Ok(Some(self.snapshots(target)?.pop().map(|s| s.name)))
    }

    /// `props` for `lzc_receive`, checked and converted by libzfs as `zfs receive -o` does
    /// (numbers and index values as integers). The stream's type is not known before it is
    /// read: filesystem properties are tried first, then a volume's.
    fn received_props(
        &self,
        snapshot: &SnapshotName,
        props: &[(String, String)],
    ) -> Result<NvList> {
        let mut strings = NvList::new();
        for (k, v) in props {
            strings.insert_str(k, v)?;
        }
        if strings.is_empty() {
            return Ok(strings);
        }
        let target = snapshot.dataset();
        let as_fs = self.validate_props(&target, sys::zfs_type_t::ZFS_TYPE_FILESYSTEM, &strings);
        match as_fs {
            Ok(typed) => Ok(typed),
            Err(e) => self
                .validate_props(&target, sys::zfs_type_t::ZFS_TYPE_VOLUME, &strings)
                .map_err(|_| e.with_operation("receive")),
        }
    }

    /// Receives any send stream as `zfs receive` does, including the package streams of
    /// `zfs send -p`/`-R` (properties, descendants, several snapshots). `target` is a dataset
    /// (the snapshot keeps the sender's name) or a snapshot name. Received properties read
    /// back with source `received`, those given with [`ReceiveOptions::property`] with source
    /// `local`. Nothing half-received stays visible after a failure: if the kernel refuses
    /// a given property once the data is in (libzfs reports that and succeeds), a dataset
    /// the receive created is destroyed and one that existed is rolled back.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] if the target exists (full stream, without `force`);
    /// [`ErrorKind::InvalidArgument`] / [`ErrorKind::Io`] for a bad or truncated stream.
    #[doc(alias = "zfs_receive")]
    pub fn receive(
        &self,
        target: &impl ZfsName,
        fd: impl AsFd,
        opts: &ReceiveOptions,
    ) -> Result<()> {
        self.receive_from(&target.to_any(), fd.as_fd(), opts)
    }

    /// One copy of the body above, whatever the argument types.
    fn receive_from(
        &self,
        target: &AnyName,
        fd: BorrowedFd<'_>,
        opts: &ReceiveOptions,
    ) -> Result<()> {
        let op = "receive";
        if let AnyName::Bookmark(mark) = target {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                mark.as_str(),
                "a stream is received into a filesystem, volume or snapshot",
            ));
        }
        let target = target.as_str();
        let t = CString::new(target).expect("valid names have no NUL");
        let mut props = NvList::new();
        for (k, v) in &opts.props {
            props.insert_str(k, v)?;
        }
        for k in &opts.excluded {
            if opts.props.iter().any(|(set, _)| set == k) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    op,
                    target,
                    format!("property '{k}' is both set and excluded"),
                ));
            }
            // libzfs takes `-x NAME` as a bare name in the same list.
            props.insert_flag(k)?;
        }
        if let Some(o) = &opts.origin {
            props.insert_str("origin", o.as_str())?;
        }
        let b = crate::handle::boolean;
        let mut rf = sys::recvflags_t {
            force: b(opts.force),
            nomount: b(opts.no_mount),
            resumable: b(opts.resumable),
            ..Default::default()
        };
        set_heal(&mut rf, opts.heal, target)?;
        let raw_fd = fd.as_raw_fd();
        let dataset = DatasetName::trusted(target.split('@').next().unwrap_or(target).to_owned());
        let before = if opts.props.is_empty() {
            None
        } else {
            self.before_receive(&dataset)?
        };
        self.check(op, target, || {
            // SAFETY: live handle; NUL-terminated target; live property list and flags; the
            // descriptor is borrowed and open; no stream AVL (libzfs builds its own).
            unsafe {
                sys::zfs_receive(
                    self.raw().ptr(),
                    t.as_ptr(),
                    props.as_ptr(),
                    &mut rf,
                    raw_fd,
                    std::ptr::null_mut(),
                )
            }
        })?;
        // libzfs reports a `-o` property the kernel refused after the data was in only as
        // its last error, and succeeds: each one asked for must now be set.
        let mut missing = Vec::new();
        if !opts.props.is_empty() {
            let fs = self.dataset(&dataset)?;
            for (name, asked) in &opts.props {
                if !is_set(name, asked, &fs.property(name)?) {
                    missing.push(name.as_str());
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let why = self.last_error(op, target).message().to_owned();
        let e = Error::new(
            ErrorKind::InvalidProperty,
            op,
            target,
            format!("{}: {why}", missing.join(", ")),
        );
        Err(self.undo_receive(&dataset, before, e))
    }
}

/// Whether a property given to `zfs receive -o` reads back as set: with source `local`, or,
/// for one fixed when the dataset is created (`encryption`, `keyformat`, `pbkdf2iters`: their
/// source reads `-`), with the value asked for.
fn is_set(name: &str, asked: &str, got: &crate::PropValue) -> bool {
    match got.source {
        crate::PropSource::Local => true,
        crate::PropSource::None => match (name, asked) {
            // `on` stands for the default cipher, whichever that is.
            ("encryption", "on") => got.value != "off",
            _ => got.value == asked || got.as_u64().is_some_and(|n| asked.parse() == Ok(n)),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PropSource, PropValue};

    fn got(value: &str, source: PropSource) -> PropValue {
        PropValue {
            value: value.to_owned(),
            source,
        }
    }

    #[test]
    fn creation_time_properties_are_checked_by_value() {
        let none = PropSource::None;
        assert!(is_set(
            "encryption",
            "on",
            &got("aes-256-gcm", none.clone())
        ));
        assert!(!is_set("encryption", "on", &got("off", none.clone())));
        assert!(is_set(
            "encryption",
            "aes-128-ccm",
            &got("aes-128-ccm", none.clone())
        ));
        assert!(!is_set(
            "encryption",
            "aes-128-ccm",
            &got("aes-256-gcm", none.clone())
        ));
        assert!(is_set(
            "keyformat",
            "passphrase",
            &got("passphrase", none.clone())
        ));
        assert!(is_set(
            "pbkdf2iters",
            "100000",
            &got("100000", none.clone())
        ));
        assert!(!is_set("pbkdf2iters", "200000", &got("100000", none)));
        // Any other source is a refusal, even with the value asked for (it came from the stream).
        assert!(!is_set(
            "compression",
            "lz4",
            &got("lz4", PropSource::Received)
        ));
        assert!(is_set("compression", "lz4", &got("lz4", PropSource::Local)));
    }
}
