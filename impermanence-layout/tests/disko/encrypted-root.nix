# In the shape of disko's encrypted-root example (written for these tests): one disk, an ESP,
# the pool's root dataset encrypted with a passphrase asked for, a swap volume.
{
  disko.devices = {
    disk.nvme = {
      type = "disk";
      device = "/dev/nvme0n1";
      content = {
        type = "gpt";
        partitions = {
          ESP = {
            size = "256M";
            type = "EF00";
            content = {
              type = "filesystem";
              format = "vfat";
              mountpoint = "/boot";
              mountOptions = [ "nofail" ];
            };
          };
          zfs = {
            size = "100%";
            content = { type = "zfs"; pool = "rpool"; };
          };
        };
      };
    };
    zpool.rpool = {
      type = "zpool";
      options.ashift = "12";
      rootFsOptions = {
        mountpoint = "none";
        acltype = "posixacl";
        xattr = "sa";
      };
      datasets = {
        crypt = {
          type = "zfs_fs";
          options = {
            encryption = "aes-256-gcm";
            keyformat = "passphrase";
            keylocation = "prompt";
            # The fewest rounds ZFS takes: the default 350 000 took about 20 s per key
            # derivation under the tests' software emulation, and the test derives it twice.
            pbkdf2iters = "100000";
          };
          mountpoint = "/";
        };
        "crypt/nix" = {
          type = "zfs_fs";
          options.mountpoint = "/nix";
          mountpoint = "/nix";
        };
        "crypt/swap" = {
          type = "zfs_volume";
          size = "64M";
          options = { volblocksize = "4096"; sync = "always"; };
          content.type = "swap";
        };
      };
    };
  };
}
