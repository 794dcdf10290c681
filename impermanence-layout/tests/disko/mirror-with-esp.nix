# A disko configuration in the shape of disko's ZFS examples (written for these tests): two
# disks, an ESP on the first, a mirror of their zfs partitions, datasets of every kind disko
# has, and the blank-snapshot hook.
{
  disko.devices = {
    disk = {
      first = {
        type = "disk";
        device = "/dev/disk/by-id/ata-FIRST";
        content = {
          type = "gpt";
          partitions = {
            zfs = {
              size = "100%";
              content = { type = "zfs"; pool = "tank"; };
            };
            ESP = {
              size = "64M";
              type = "EF00";
              content = {
                type = "filesystem";
                format = "vfat";
                mountpoint = "/boot";
                mountOptions = [ "umask=0077" ];
              };
            };
          };
        };
      };
      second = {
        type = "disk";
        device = "/dev/disk/by-id/ata-SECOND";
        content = {
          type = "gpt";
          partitions.zfs = {
            size = "100%";
            content = { type = "zfs"; pool = "tank"; };
          };
        };
      };
    };
    zpool.tank = {
      type = "zpool";
      mode = "mirror";
      options = { ashift = "12"; cachefile = "none"; };
      rootFsOptions = { compression = "lz4"; "org.example:backup" = "no"; };
      mountpoint = "/";
      postCreateHook = "zfs list -t snapshot -H -o name | grep -E '^tank@blank$' || zfs snapshot tank@blank";
      datasets = {
        home = {
          type = "zfs_fs";
          mountpoint = "/home";
          mountOptions = [ "nosuid" ];
        };
        "home/alice" = { type = "zfs_fs"; mountpoint = "/home/alice"; };
        scratch = { type = "zfs_fs"; options.mountpoint = "none"; };
        var = {
          type = "zfs_fs";
          options.mountpoint = "legacy";
          mountpoint = "/var";
        };
        "vols/data" = {
          type = "zfs_volume";
          size = "16M";
          content = { type = "filesystem"; format = "ext4"; mountpoint = "/srv"; };
        };
        swap = {
          type = "zfs_volume";
          size = "16M";
          options = { volblocksize = "4096"; compression = "zle"; };
          content.type = "swap";
        };
      };
    };
  };
}
