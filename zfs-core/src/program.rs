//! ZFS channel programs: Lua scripts run atomically in the kernel (`zfs program`).

use std::ffi::CString;
use std::ptr;

use libzfs_sys as sys;

use crate::handle::Zfs;
use crate::name::PoolName;
use crate::nvlist::{NvList, NvValue};
use crate::{Error, ErrorKind, Result};

/// Limits and arguments for [`Zfs::program`]:
/// `zfs program [-n] [-t INSTRUCTIONS] [-m BYTES] POOL SCRIPT [ARG]...`.
#[derive(Debug, Clone)]
pub struct ProgramOptions {
    instruction_limit: u64,
    memory_limit: u64,
    sync: bool,
    args: NvList,
}

impl Default for ProgramOptions {
    fn default() -> ProgramOptions {
        ProgramOptions {
            instruction_limit: u64::from(sys::ZCP_DEFAULT_INSTRLIMIT),
            memory_limit: u64::from(sys::ZCP_DEFAULT_MEMLIMIT),
            sync: true,
            args: NvList::new(),
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

    /// What the program receives as `...`. The CLI puts its `ARG`s here as the string array
    /// `argv`; here any list will do.
    pub fn args(mut self, args: NvList) -> ProgramOptions {
        self.args = args;
        self
    }
}

impl Zfs {
    /// Runs a channel program on `pool` and returns its output list (the program's return
    /// value is under `"return"`): `zfs program`, with the script as text.
    ///
    /// ```no_run
    /// use zfs_core::nvlist::NvList;
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
    /// let mut args = NvList::new();
    /// args.insert_str("fs", "tank/home")?;
    /// let opts = ProgramOptions::new().no_sync(true).args(args); // -n
    /// let out = zfs.program(&PoolName::new("tank")?, script, &opts)?;
    /// println!("{:?}", out.get("return"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::ProgramSyntax`], [`ErrorKind::ProgramRuntime`] (with the program's error
    /// text), [`ErrorKind::InstructionLimit`], [`ErrorKind::MemoryLimit`];
    /// [`ErrorKind::InvalidArgument`] for limits out of range.
    #[doc(alias = "lzc_channel_program")]
    pub fn program(&self, pool: &PoolName, program: &str, opts: &ProgramOptions) -> Result<NvList> {
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
                opts.args.as_ptr(),
                &mut out,
            )
        };
        // SAFETY: on success and on most failures the kernel hands back an output list we own.
        let out = (!out.is_null()).then(|| unsafe { NvList::from_raw(out) });
        if rc == 0 {
            return Ok(out.unwrap_or_default());
        }
        let detail = out.as_ref().and_then(|o| match o.get("error") {
            Some(NvValue::String(s)) => Some(s),
            _ => None,
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
        }
        Err(e)
    }
}
