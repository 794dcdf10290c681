# In the shape of disko's zfs-over-legacy example (written for these tests): ext4 at / on one
# disk's partition, a pool on a whole second disk with a dataset under /.
{
  disko.devices = {
    disk = {
      sys = {
        type = "disk";
        device = "/dev/vdb";
        content = {
          type = "gpt";
          partitions = {
            ESP = {
              size = "100M";
              type = "EF00";
              content = { type = "filesystem"; format = "vfat"; mountpoint = "/boot"; };
            };
            root = {
              size = "100%";
              content = { type = "filesystem"; format = "ext4"; mountpoint = "/"; };
            };
          };
        };
      };
      data = {
        type = "disk";
        device = "/dev/vdc";
        content = { type = "zfs"; pool = "dpool"; };
      };
    };
    zpool.dpool = {
      type = "zpool";
      rootFsOptions.mountpoint = "none";
      datasets = {
        top = { type = "zfs_fs"; options.mountpoint = "none"; };
        "top/srv" = { type = "zfs_fs"; mountpoint = "/srv"; };
      };
    };
  };
}
