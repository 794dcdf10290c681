//! The flags of calls that take only flags, one struct per call, each flag named like the CLI
//! option it stands for. All start off (the CLI without options); set them by chaining:
//! `DestroyOptions::new().recursive(true)`. Private fields, so a flag can be added later
//! without breaking anyone.

macro_rules! flag_options {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $flag:ident,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            $(pub(crate) $flag: bool,)+
        }

        impl $name {
            /// Every flag off, as the command without options.
            pub fn new() -> $name {
                $name::default()
            }

            $(
                $(#[$fdoc])*
                pub fn $flag(mut self, yes: bool) -> $name {
                    self.$flag = yes;
                    self
                }
            )+
        }
    };
}

flag_options! {
    /// Flags of [`Zfs::destroy`](crate::Zfs::destroy): `zfs destroy [-r] [-R] [-f] [-d]`.
    DestroyOptions {
        /// `-r`: children and snapshots too.
        recursive,
        /// `-R`: also the clones of its snapshots, wherever they are (implies `-r` for them).
        dependents,
        /// `-f`: unmount busy filesystems by force.
        force_unmount,
        /// `-d`: a held or cloned snapshot is marked to go when its last hold or clone goes,
        /// instead of refusing (snapshots only).
        defer,
        /// A recursive destroy with one kernel call per object, as before channel programs,
        /// instead of one channel program for the whole tree (one transaction group, and all
        /// or nothing for every refusal the kernel can check first). The same meaning, slower;
        /// used by itself where the kernel refuses channel programs (a user without root).
        one_call_per_object,
    }
}

flag_options! {
    /// Flags of [`Zfs::destroy_snapshots`]: `zfs destroy [-d] SNAP...`.
    ///
    /// [`Zfs::destroy_snapshots`]: crate::Zfs::destroy_snapshots
    DestroySnapshotsOptions {
        /// `-d`: held or cloned snapshots are marked to go when their last hold or clone
        /// goes, instead of refusing.
        defer,
    }
}

flag_options! {
    /// Flags of [`Zfs::rename`](crate::Zfs::rename): `zfs rename [-r]`.
    RenameOptions {
        /// `-r`: rename the snapshot of every descendant too (snapshots only).
        recursive,
    }
}

flag_options! {
    /// Flags of [`Zfs::rollback`](crate::Zfs::rollback): `zfs rollback [-r]`.
    RollbackOptions {
        /// `-r`: destroy snapshots newer than the target first, instead of refusing.
        destroy_newer,
    }
}

flag_options! {
    /// Flags of [`Dataset::unmount`](crate::Dataset::unmount): `zfs unmount [-f]`.
    UnmountOptions {
        /// `-f`: unmount even if files are open.
        force,
    }
}

flag_options! {
    /// Flags of [`Zfs::export_pool`](crate::Zfs::export_pool): `zpool export [-f]`.
    ExportOptions {
        /// `-f`: unmount busy filesystems by force.
        force,
    }
}

flag_options! {
    /// Flags of [`Dataset::inherit`](crate::Dataset::inherit): `zfs inherit [-r] [-S]`.
    InheritOptions {
        /// `-r`: clear the local value on every descendant too.
        recursive,
        /// `-S`: revert to the received value where there is one, instead of inheriting.
        received,
        /// A recursive inherit of a user property with one kernel call per object, as
        /// before channel programs, instead of one program for the whole tree (one
        /// transaction group, all or nothing). The same meaning, slower; used by itself where
        /// the kernel refuses channel programs (a user without root).
        one_call_per_object,
    }
}

flag_options! {
    /// Flags of [`Zfs::change_user_properties`](crate::Zfs::change_user_properties).
    PropertyBatchOptions {
        /// Each change its own `zfs set` or `zfs inherit`, as before channel programs,
        /// instead of one program for the batch (one transaction group, all or nothing). The
        /// same meaning, slower; used by itself where the kernel refuses channel programs.
        one_call_per_object,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_start_off_and_chain() {
        let o = DestroyOptions::new();
        assert!(!o.recursive && !o.dependents && !o.force_unmount && !o.defer);
        let o = o.recursive(true).defer(true).recursive(false);
        assert!(!o.recursive && o.defer);
        assert_eq!(InheritOptions::new(), InheritOptions::default());
    }
}
