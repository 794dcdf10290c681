# In the shape of disko's zfs-with-vdevs example (written for these tests): a mirror, a log
# mirror, a special mirror, a cache and a spare, named by disk.
let
  disk = device: {
    type = "disk";
    inherit device;
    content = {
      type = "gpt";
      partitions.zfs = {
        size = "100%";
        content = { type = "zfs"; pool = "big"; };
      };
    };
  };
in
{
  disko.devices = {
    disk = {
      d1 = disk "/dev/vdb";
      d2 = disk "/dev/vdc";
      l1 = disk "/dev/vdd";
      l2 = disk "/dev/vde";
      s1 = disk "/dev/vdf";
      s2 = disk "/dev/vdg";
      c1 = disk "/dev/vdh";
      sp = disk "/dev/vdi";
    };
    zpool.big = {
      type = "zpool";
      mode.topology = {
        type = "topology";
        vdev = [ { mode = "mirror"; members = [ "d1" "d2" ]; } ];
        log = [ { mode = "mirror"; members = [ "l1" "l2" ]; } ];
        special = { mode = "mirror"; members = [ "s1" "s2" ]; };
        cache = [ "c1" ];
        spare = [ "sp" ];
      };
    };
  };
}
