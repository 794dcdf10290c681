# A disko configuration in the shape of OpenZFS's root-on-ZFS guides (written for these tests):
# two disks, an ESP on the first, and on each a partition of a boot pool that GRUB can read
# (compatibility = grub2) and one of the root pool; both pools mirrored. The ESP is mounted
# inside the boot pool's /boot, which is inside the root pool's /.
{
  disko.devices = {
    disk = {
      one = {
        type = "disk";
        device = "/dev/disk/by-id/ata-ONE";
        content = {
          type = "gpt";
          partitions = {
            ESP = {
              size = "64M";
              type = "EF00";
              content = {
                type = "filesystem";
                format = "vfat";
                mountpoint = "/boot/efi";
                mountOptions = [ "umask=0077" ];
              };
            };
            bpool = {
              size = "128M";
              content = { type = "zfs"; pool = "bpool"; };
            };
            rpool = {
              size = "100%";
              content = { type = "zfs"; pool = "rpool"; };
            };
          };
        };
      };
      two = {
        type = "disk";
        device = "/dev/disk/by-id/ata-TWO";
        content = {
          type = "gpt";
          partitions = {
            bpool = {
              size = "128M";
              content = { type = "zfs"; pool = "bpool"; };
            };
            rpool = {
              size = "100%";
              content = { type = "zfs"; pool = "rpool"; };
            };
          };
        };
      };
    };
    zpool = {
      bpool = {
        type = "zpool";
        mode = "mirror";
        options = { ashift = "12"; compatibility = "grub2"; };
        rootFsOptions = { canmount = "off"; mountpoint = "none"; };
        datasets.nixos = { type = "zfs_fs"; mountpoint = "/boot"; };
      };
      rpool = {
        type = "zpool";
        mode = "mirror";
        options = { ashift = "12"; };
        rootFsOptions = {
          compression = "zstd";
          acltype = "posixacl";
          xattr = "sa";
          canmount = "off";
          mountpoint = "none";
        };
        postCreateHook = "zfs snapshot rpool@blank";
        datasets = {
          root = { type = "zfs_fs"; mountpoint = "/"; };
          home = {
            type = "zfs_fs";
            options.mountpoint = "legacy";
            mountpoint = "/home";
          };
        };
      };
    };
  };
}
