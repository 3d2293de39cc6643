package dev.ioemu.tools;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.zip.CRC32;

/**
 * What the first sectors of a disk image say: the MBR boot signature and partition table (primary
 * entries and the logical partitions of an extended partition's EBR chain) or, behind a
 * protective MBR, the GPT header and entries with both CRCs checked. Types are named as
 * util-linux's fdisk names them. Pure parsing over a sector reader: a damaged or hostile table
 * gives a {@code problem} text, never an exception or an endless walk.
 */
record PartitionTable(boolean bootSignature, String scheme, String diskId, List<Partition> partitions,
                      String problem) {
    static final int SECTOR = 512;
    /** The most EBRs followed: a loop in the chain must end the walk (fdisk stops at a similar bound). */
    static final int MAX_LOGICAL = 128;
    /** The most GPT entries read (the spec's usual 128; a header claiming more is damaged). */
    static final int MAX_GPT_ENTRIES = 1024;

    record Partition(int number, boolean bootable, long start, long sectors, String typeId, String typeName) {
        /** "0x0e W95 FAT16 (LBA)", "BIOS boot (21686148-…)". */
        String type() {
            return typeId.startsWith("0x") ? typeId + " " + typeName
                    : typeName.equals(typeId) ? typeId : typeName + " (" + typeId + ")";
        }
    }

    private static final Map<Integer, String> MBR_TYPES = Map.ofEntries(
            Map.entry(0x01, "FAT12"), Map.entry(0x04, "FAT16 <32M"), Map.entry(0x05, "Extended"),
            Map.entry(0x06, "FAT16"), Map.entry(0x07, "HPFS/NTFS/exFAT"), Map.entry(0x0b, "W95 FAT32"),
            Map.entry(0x0c, "W95 FAT32 (LBA)"), Map.entry(0x0e, "W95 FAT16 (LBA)"),
            Map.entry(0x0f, "W95 Ext'd (LBA)"), Map.entry(0x82, "Linux swap / Solaris"), Map.entry(0x83, "Linux"),
            Map.entry(0x85, "Linux extended"), Map.entry(0x8e, "Linux LVM"), Map.entry(0xa5, "FreeBSD"),
            Map.entry(0xee, "GPT"), Map.entry(0xef, "EFI (FAT-12/16/32)"), Map.entry(0xfd, "Linux raid autodetect"));

    private static final Map<String, String> GPT_TYPES = Map.of(
            "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System",
            "21686148-6449-6E6F-744E-656564454649", "BIOS boot",
            "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem",
            "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap",
            "E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM",
            "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data",
            "A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID");

    /** Reads the table through {@code sector}, which returns the 512 bytes of an LBA (zeros past the end). */
    static PartitionTable read(LongFunction<ByteBuffer> sector, long totalSectors) {
        ByteBuffer mbr = sector.apply(0).order(ByteOrder.LITTLE_ENDIAN);
        boolean signature = (mbr.get(510) & 0xff) == 0x55 && (mbr.get(511) & 0xff) == 0xaa;
        if (!signature) {
            return new PartitionTable(false, "none", null, List.of(), null);
        }
        List<Partition> primary = new ArrayList<>();
        boolean protective = false;
        for (int i = 0; i < 4; i++) {
            int e = 446 + 16 * i;
            int type = mbr.get(e + 4) & 0xff;
            long start = Integer.toUnsignedLong(mbr.getInt(e + 8));
            long sectors = Integer.toUnsignedLong(mbr.getInt(e + 12));
            if (type == 0 || sectors == 0) {
                continue;
            }
            protective |= type == 0xee;
            primary.add(new Partition(i + 1, (mbr.get(e) & 0xff) == 0x80, start, sectors, mbrTypeId(type), mbrType(type)));
        }
        if (protective) {
            return gpt(sector, totalSectors);
        }
        String diskId = String.format("0x%08x", mbr.getInt(440));
        List<Partition> all = new ArrayList<>(primary);
        String problem = null;
        for (int i = 0; i < 4; i++) {
            int e = 446 + 16 * i;
            int type = mbr.get(e + 4) & 0xff;
            if (type == 0x05 || type == 0x0f || type == 0x85) {
                problem = logical(sector, Integer.toUnsignedLong(mbr.getInt(e + 8)), totalSectors, all);
                break;
            }
        }
        if (problem == null) {
            problem = beyondEnd(all, totalSectors);
        }
        return new PartitionTable(true, "dos", diskId, all, problem);
    }

    /** Follows the EBR chain from the extended partition at {@code base}; returns a problem or null. */
    private static String logical(LongFunction<ByteBuffer> sector, long base, long totalSectors,
                                  List<Partition> into) {
        long ebr = base;
        for (int n = 0; n < MAX_LOGICAL; n++) {
            if (ebr >= totalSectors) {
                return "EBR at sector " + ebr + " is past the end of the image";
            }
            ByteBuffer b = sector.apply(ebr).order(ByteOrder.LITTLE_ENDIAN);
            if ((b.get(510) & 0xff) != 0x55 || (b.get(511) & 0xff) != 0xaa) {
                return "EBR at sector " + ebr + " has no boot signature";
            }
            int type = b.get(446 + 4) & 0xff;
            long sectors = Integer.toUnsignedLong(b.getInt(446 + 12));
            if (type != 0 && sectors != 0) {
                into.add(new Partition(5 + n, (b.get(446) & 0xff) == 0x80,
                        ebr + Integer.toUnsignedLong(b.getInt(446 + 8)), sectors, mbrTypeId(type), mbrType(type)));
            }
            long next = Integer.toUnsignedLong(b.getInt(462 + 8));
            if ((b.get(462 + 4) & 0xff) == 0 || next == 0) {
                return null;
            }
            ebr = base + next;
        }
        return "more than " + MAX_LOGICAL + " logical partitions (a loop in the EBR chain?)";
    }

    private static PartitionTable gpt(LongFunction<ByteBuffer> sector, long totalSectors) {
        ByteBuffer h = sector.apply(1).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        h.get(0, magic);
        if (!new String(magic, StandardCharsets.US_ASCII).equals("EFI PART")) {
            return new PartitionTable(true, "gpt", null, List.of(), "protective MBR but no GPT header at LBA 1");
        }
        int headerSize = h.getInt(12);
        if (headerSize < 92 || headerSize > SECTOR) {
            return new PartitionTable(true, "gpt", null, List.of(), "GPT header size " + headerSize + " is invalid");
        }
        byte[] header = new byte[headerSize];
        h.get(0, header);
        int storedCrc = h.getInt(16);
        header[16] = header[17] = header[18] = header[19] = 0;
        String problem = crc(header, 0, headerSize) != storedCrc ? "GPT header CRC mismatch" : null;
        String diskId = guid(h, 56);
        long entriesLba = h.getLong(72);
        long count = Integer.toUnsignedLong(h.getInt(80));
        int entrySize = h.getInt(84);
        int entriesCrc = h.getInt(88);
        if (entrySize < 128 || entrySize > SECTOR || SECTOR % entrySize != 0 || count > MAX_GPT_ENTRIES
                || entriesLba < 2 || entriesLba >= totalSectors) {
            return new PartitionTable(true, "gpt", diskId, List.of(), "GPT entry array is invalid ("
                    + count + " entries of " + entrySize + " bytes at LBA " + entriesLba + ")");
        }
        byte[] array = new byte[(int) (count * entrySize)];
        for (int s = 0; s * SECTOR < array.length; s++) {
            ByteBuffer b = sector.apply(entriesLba + s);
            b.get(0, array, s * SECTOR, Math.min(SECTOR, array.length - s * SECTOR));
        }
        if (problem == null && crc(array, 0, array.length) != entriesCrc) {
            problem = "GPT entry array CRC mismatch";
        }
        ByteBuffer entries = ByteBuffer.wrap(array).order(ByteOrder.LITTLE_ENDIAN);
        List<Partition> parts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int e = i * entrySize;
            String type = guid(entries, e);
            if (type.equals("00000000-0000-0000-0000-000000000000")) {
                continue;
            }
            long first = entries.getLong(e + 32);
            long last = entries.getLong(e + 40);
            long attributes = entries.getLong(e + 48);
            boolean legacyBootable = (attributes & 0x4) != 0;
            parts.add(new Partition(i + 1, legacyBootable, first, last >= first ? last - first + 1 : 0,
                    type, GPT_TYPES.getOrDefault(type, type)));
        }
        if (problem == null) {
            problem = beyondEnd(parts, totalSectors);
        }
        return new PartitionTable(true, "gpt", diskId, parts, problem);
    }

    private static String beyondEnd(List<Partition> parts, long totalSectors) {
        for (Partition p : parts) {
            if (p.start() + p.sectors() > totalSectors) {
                return "partition " + p.number() + " ends past the end of the image";
            }
        }
        return null;
    }

    private static String mbrTypeId(int type) {
        return String.format("0x%02x", type);
    }

    private static String mbrType(int type) {
        return MBR_TYPES.getOrDefault(type, "unknown");
    }

    /** A GUID in its mixed-endian on-disk form, printed as the spec writes them. */
    private static String guid(ByteBuffer b, int at) {
        return String.format(Locale.ROOT, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                b.getInt(at), b.getShort(at + 4), b.getShort(at + 6), b.get(at + 8), b.get(at + 9),
                b.get(at + 10), b.get(at + 11), b.get(at + 12), b.get(at + 13), b.get(at + 14), b.get(at + 15));
    }

    private static int crc(byte[] data, int offset, int length) {
        CRC32 c = new CRC32();
        c.update(data, offset, length);
        return (int) c.getValue();
    }
}
