//! ZFS channel programs: Lua scripts run atomically in the kernel (`zfs program`).

mod value;

use std::ffi::CString;
use std::ptr;

use libzfs_sys as sys;

pub use self::value::{ProgramTable, ProgramValue, TableKey};
use crate::handle::Zfs;
use crate::name::PoolName;
use crate::nvlist::NvList;
use crate::{Error, ErrorKind, Result};

/// Limits and arguments for [`Zfs::program`]:
/// `zfs program [-n] [-t INSTRUCTIONS] [-m BYTES] POOL SCRIPT [ARG]...`.
#[derive(Debug, Clone)]
pub struct ProgramOptions {
    instruction_limit: u64,
    memory_limit: u64,
    sync: bool,
    args: ProgramTable,
}

impl Default for ProgramOptions {
    fn default() -> ProgramOptions {
        ProgramOptions {
            instruction_limit: u64::from(sys::ZCP_DEFAULT_INSTRLIMIT),
            memory_limit: u64::from(sys::ZCP_DEFAULT_MEMLIMIT),
            sync: true,
            args: ProgramTable::new(),
        }
    }
}

impl ProgramOptions {
    /// The CLI's defaults: 10 000 000 instructions, 10 MiB, run in syncing context, no
    /// arguments.
    pub fn new() -> ProgramOptions {
        ProgramOptions::default()
    }

    /// `-t`: Lua instructions before the program is stopped (1 to 100 000 000).
    pub fn instruction_limit(mut self, instructions: u64) -> ProgramOptions {
        self.instruction_limit = instructions;
        self
    }

    /// `-m`: bytes of memory the program may use (1 to 100 MiB).
    pub fn memory_limit(mut self, bytes: u64) -> ProgramOptions {
        self.memory_limit = bytes;
        self
    }

    /// `-n`: run read-only, without waiting for a transaction group.
    pub fn no_sync(mut self, yes: bool) -> ProgramOptions {
        self.sync = !yes;
        self
    }

    /// What the program receives as `...` (replacing earlier arguments). The CLI passes its
    /// `ARG`s as the sequence `argv`; here any table will do.
    pub fn args(mut self, args: ProgramTable) -> ProgramOptions {
        self.args = args;
        self
    }

    /// Sets one entry of the table the program receives as `...`: `(...)[key]` in Lua.
    pub fn arg(mut self, key: impl TableKey, value: impl Into<ProgramValue>) -> ProgramOptions {
        self.args.insert(key, value);
        self
    }
}

impl Zfs {
    /// [`Zfs::program`] for a fast path: `Ok(None)` where the kernel refuses channel programs
    /// here (not root, or built without them), so that the caller takes its one-call-per-object
    /// path; any other error is the call's, named `op`.
    pub(crate) fn program_unless_refused(
        &self,
        op: &'static str,
        pool: &PoolName,
        program: &str,
        opts: &ProgramOptions,
    ) -> Result<Option<ProgramValue>> {
        match self.program(pool, program, opts) {
            Ok(out) => Ok(Some(out)),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::PermissionDenied | ErrorKind::NotSupported
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.with_operation(op)),
        }
    }

    /// Runs a channel program on `pool` and returns what it returned (`nil` when it returns
    /// nothing): `zfs program`, with the script as text. All its `zfs.sync` changes happen in
    /// one transaction group, or none of them.
    ///
    /// ```no_run
    /// use zfs_core::{PoolName, ProgramOptions, Zfs};
    ///
    /// # fn main() -> zfs_core::Result<()> {
    /// let zfs = Zfs::open()?;
    /// // Count a filesystem's snapshots and their space in one read-only pass
    /// // (`zfs program -n tank count.lua`).
    /// let script = r#"
    ///     args = ...
    ///     local n, used = 0, 0
    ///     for snap in zfs.list.snapshots(args["fs"]) do
    ///         n = n + 1
    ///         used = used + zfs.get_prop(snap, "used")
    ///     end
    ///     return {count = n, used = used}
    /// "#;
    /// let opts = ProgramOptions::new().no_sync(true).arg("fs", "tank/home"); // -n
    /// let out = zfs.program(&PoolName::new("tank")?, script, &opts)?;
    /// let count = out.get("count").and_then(|v| v.as_u64());
    /// let used = out.get("used").and_then(|v| v.as_u64());
    /// println!("{count:?} snapshots, {used:?} bytes");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::ProgramSyntax`], [`ErrorKind::ProgramRuntime`] (with the program's error
    /// text), [`ErrorKind::InstructionLimit`], [`ErrorKind::MemoryLimit`];
    /// [`ErrorKind::InvalidArgument`] for limits out of range, or a NUL byte in the program or
    /// an argument; [`ErrorKind::NotFound`] with
    /// [`Reason::PoolNotFound`](crate::Reason::PoolNotFound) if no such pool is imported.
    #[doc(alias = "lzc_channel_program")]
    pub fn program(
        &self,
        pool: &PoolName,
        program: &str,
        opts: &ProgramOptions,
    ) -> Result<ProgramValue> {
        let op = "run channel program on";
        let max_instr = u64::from(sys::ZCP_MAX_INSTRLIMIT);
        let max_mem = u64::from(sys::ZCP_MAX_MEMLIMIT);
        if !(1..=max_instr).contains(&opts.instruction_limit) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                pool.as_str(),
                format!("instruction limit must be 1 to {max_instr}"),
            ));
        }
        if !(1..=max_mem).contains(&opts.memory_limit) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                op,
                pool.as_str(),
                format!("memory limit must be 1 to {max_mem} bytes"),
            ));
        }
        let name = CString::new(pool.as_str()).expect("no NUL");
        let code = CString::new(program).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                op,
                pool.as_str(),
                "program contains a NUL byte",
            )
        })?;
        let args = opts
            .args
            .to_nvlist()
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, op, pool.as_str(), e.message()))?;
        let mut out: *mut sys::nvlist_t = ptr::null_mut();
        let call = if opts.sync {
            sys::lzc_channel_program
        } else {
            sys::lzc_channel_program_nosync
        };
        // SAFETY: NUL-terminated strings, a live argument list; `out` receives an owned list.
        let rc = unsafe {
            call(
                name.as_ptr(),
                code.as_ptr(),
                opts.instruction_limit,
                opts.memory_limit,
                args.as_ptr(),
                &mut out,
            )
        };
        // SAFETY: on success and on most failures the kernel hands back an output list we own.
        let out = (!out.is_null()).then(|| unsafe { NvList::from_raw(out) });
        let read = |key: &str| -> Option<ProgramValue> {
            out.as_ref()?
                .get(key)
                .and_then(|v| ProgramValue::from_nv(&v).ok())
        };
        if rc == 0 {
            return Ok(read("return").unwrap_or_default());
        }
        // `error("text")` leaves the text (other error values leave the kernel's traceback);
        // should a table ever come back, it is shown Lua-like.
        let detail = read("error").map(|v| match v {
            ProgramValue::String(s) => s,
            other => other.to_string(),
        });
        let kind = match rc {
            libc::EINVAL if detail.is_some() => ErrorKind::ProgramSyntax,
            libc::ECHRNG => ErrorKind::ProgramRuntime,
            libc::ETIME => ErrorKind::InstructionLimit,
            libc::ENOSPC => ErrorKind::MemoryLimit,
            _ => crate::error::kind_from_errno(rc),
        };
        let mut e = Error::from_errno(op, pool.as_str(), rc).with_kind(kind);
        if let Some(d) = detail {
            e = e.with_message(d);
        } else if kind == ErrorKind::InstructionLimit {
            e = e.with_message("the program ran past its instruction limit");
        } else if kind == ErrorKind::MemoryLimit {
            e = e.with_message("the program ran past its memory limit");
        } else if rc == libc::ENOENT && !self.pool_exists(pool) {
            // The ioctl opens the pool first; a program's own failures come back as ECHRNG.
            e = e
                .with_message("no such pool")
                .with_reason(crate::Reason::PoolNotFound);
        }
        Err(e)
    }
}
