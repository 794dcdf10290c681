# What a spec cannot express, in disko's shape (written for these tests): each is named.
{ disks ? [ "/dev/vdb" ], ... }:
{
  disko.devices = {
    disk.main = {
      type = "disk";
      device = builtins.elemAt disks 0;
      content = {
        type = "gpt";
        partitions = {
          luks = {
            size = "100%";
            content = { type = "luks"; name = "crypted"; };
          };
          data = {
            size = "1G";
            content = { type = "filesystem"; format = "btrfs"; mountpoint = "/data"; };
          };
        };
      };
    };
    lvm_vg.pool = { type = "lvm_vg"; lvs = { }; };
    zpool.tank = {
      type = "zpool";
      postCreateHook = "echo hello";
      datasets.a = { type = "zfs_fs"; };
    };
  };
}
