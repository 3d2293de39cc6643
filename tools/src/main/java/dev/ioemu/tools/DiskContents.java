package dev.ioemu.tools;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.ImageLockHolders;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code ioemu-img info} adds after qemu-img's own lines, only when there is something to
 * say (so the output of an empty or unpartitioned image stays qemu-img's, line for line): the
 * boot signature and partition table, and the processes holding the image's lock bytes.
 */
record DiskContents(PartitionTable table, String readProblem, List<ImageLockHolders.Holder> holders) {

    static DiskContents of(BlockDevice dev, String file) {
        long sectors = ImgTool.virtualSize(dev) / PartitionTable.SECTOR;
        String[] readProblem = {null};
        PartitionTable table = sectors == 0 ? null : PartitionTable.read(lba -> {
            ByteBuffer b = ByteBuffer.allocateDirect(PartitionTable.SECTOR);
            if (lba >= 0 && lba < sectors) {
                int r = dev.read(lba * PartitionTable.SECTOR, b.duplicate());
                if (r < 0 && readProblem[0] == null) {
                    readProblem[0] = "sector " + lba + " could not be read (errno " + -r + ")";
                }
            }
            return b;
        }, sectors);
        return new DiskContents(table, readProblem[0], ImageLockHolders.of(file));
    }

    boolean isEmpty() {
        return !hasTable() && holders.isEmpty();
    }

    private boolean hasTable() {
        return table != null && table.bootSignature();
    }

    void printHuman(PrintStream out) {
        if (hasTable()) {
            out.println("Disk contents:");
            out.println("    boot signature: 55 aa");
            out.println("    partition table: " + table.scheme()
                    + (table.diskId() != null ? " (disk identifier " + table.diskId() + ")" : ""));
            for (PartitionTable.Partition p : table.partitions()) {
                out.printf("    partition %d:%s start %d, %d sectors (%s), type %s%n", p.number(),
                        p.bootable() ? " bootable," : "", p.start(), p.sectors(),
                        ImgTool.sizeToStr(p.sectors() * PartitionTable.SECTOR), p.type());
            }
            for (String problem : problems()) {
                out.println("    warning: " + problem);
            }
        }
        if (!holders.isEmpty()) {
            out.println("Locked by:");
            for (ImageLockHolders.Holder h : holders) {
                out.println("    pid " + h.pid() + " (" + h.command() + "): holds " + h.heldNames()
                        + "; refuses to share " + h.unsharedNames());
            }
        }
    }

    /** ioemu's keys after qemu-img's: "ioemu-disk-contents" and "ioemu-locked-by", each only when present. */
    void printJson(PrintStream out) {
        List<String> members = new ArrayList<>();
        if (hasTable()) {
            List<String> parts = new ArrayList<>();
            for (PartitionTable.Partition p : table.partitions()) {
                parts.add("{\"number\": " + p.number() + ", \"bootable\": " + p.bootable() + ", \"start\": "
                        + p.start() + ", \"sectors\": " + p.sectors() + ", \"type-id\": " + ImgTool.jsonString(p.typeId())
                        + ", \"type\": " + ImgTool.jsonString(p.typeName())
                        + "}");
            }
            List<String> warnings = new ArrayList<>();
            for (String problem : problems()) {
                warnings.add(ImgTool.jsonString(problem));
            }
            members.add("    \"ioemu-disk-contents\": {\"boot-signature\": true, \"partition-table\": "
                    + ImgTool.jsonString(table.scheme()) + (table.diskId() != null
                    ? ", \"disk-identifier\": " + ImgTool.jsonString(table.diskId()) : "")
                    + ", \"partitions\": [" + String.join(", ", parts) + "], \"warnings\": ["
                    + String.join(", ", warnings) + "]}");
        }
        if (!holders.isEmpty()) {
            List<String> hs = new ArrayList<>();
            for (ImageLockHolders.Holder h : holders) {
                hs.add("{\"pid\": " + h.pid() + ", \"command\": " + ImgTool.jsonString(h.command()) + ", \"holds\": "
                        + ImgTool.jsonString(h.heldNames()) + ", \"refuses-to-share\": "
                        + ImgTool.jsonString(h.unsharedNames()) + "}");
            }
            members.add("    \"ioemu-locked-by\": [" + String.join(", ", hs) + "]");
        }
        if (!members.isEmpty()) {
            out.println(String.join(",\n", members));
        }
    }

    private List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (table.problem() != null) {
            problems.add(table.problem());
        }
        if (readProblem != null) {
            problems.add(readProblem);
        }
        return problems;
    }
}
