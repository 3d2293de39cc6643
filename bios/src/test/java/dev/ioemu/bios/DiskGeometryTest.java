package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;


import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Translation as SeaBIOS computes it under QEMU: the worked examples of shared/spec/int13.md §5.5. */
class DiskGeometryTest {
    static Chs chs(String s) {
        String[] v = s.split("/");
        return new Chs(Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]));
    }

    @ParameterizedTest(name = "{0} sectors")
    @CsvSource({
            // sectors,  PCHS,       trans, LCHS,        CH, CL, DH, AH=15 CX:DX, LARGE would give
            "20480,      20/16/63,    NONE, 20/16/63,    12, 3F, 0F, 00004AD0, 20/16/63",
            "204800,     203/16/63,   NONE, 203/16/63,   C9, 3F, 0F, 00031B60, 203/16/63",
            "1032192,    1024/16/63,  NONE, 1024/16/63,  FE, FF, 0F, 000FBC10, 1024/16/63",
            "1048576,    1040/16/63,  LBA,  1024/16/63,  FE, FF, 0F, 000FBC10, 520/32/63",
            "2097152,    2080/16/63,  LBA,  1024/32/63,  FE, FF, 1F, 001F7820, 520/64/63",
            "4194304,    4161/16/63,  LBA,  520/128/63,  06, BF, 7F, 003FDC80, 520/128/63",
            "8388608,    8322/16/63,  LBA,  522/255/63,  08, BF, FE, 007FB6C9, 1024/128/63",
            "16777216,   16383/16/63, LBA,  1024/255/63, FE, FF, FE, 00FAC53F, 1024/128/63",
            "41943040,   16383/16/63, LBA,  1024/255/63, FE, FF, FE, 00FAC53F, 1024/128/63",
    })
    void workedExamples(long sectors, String pchs, Translation trans, String lchs, String ch, String cl, String dh,
                        String ah15, String large) {
        DiskGeometry g = DiskGeometry.of(sectors, null, null, DiskGeometry.Policy.SEABIOS);
        assertEquals(chs(pchs), g.physical());
        assertEquals(trans, g.translation());
        assertEquals(chs(lchs), g.logical());
        assertEquals(chs(large), Translation.LARGE.logicalFor(g.physical(), sectors));

        try (GuestKit kit = new GuestKit(List.of(new MemoryDrive(g)))) {
            kit.powerOn();
            kit.regs.setAh(0x08);
            kit.regs.setDl(0x80);
            kit.interrupt(0x13);
            assertEquals(Integer.parseInt(ch, 16), kit.regs.ch());
            assertEquals(Integer.parseInt(cl, 16), kit.regs.cl());
            assertEquals(Integer.parseInt(dh, 16), kit.regs.dh());
            kit.regs.setAh(0x15);
            kit.regs.setDl(0x80);
            kit.interrupt(0x13);
            assertEquals(Long.parseLong(ah15, 16), (long) kit.regs.cx() << 16 | kit.regs.dx());
        }
    }

    static byte[] mbr(int endHead, int endSector, long length) {
        return Int13DiskServicesTest.mbr(endHead, endSector, length);
    }

    @Test
    void partitionTableWithAtMost16HeadsBecomesThePhysicalGeometry() {
        long total = 20480;
        DiskGeometry g = DiskGeometry.of(total, mbr(15, 32, total - 32), null, DiskGeometry.Policy.SEABIOS);
        assertEquals(new Chs(40, 16, 32), g.physical());
        assertEquals(Translation.NONE, g.translation());
        assertEquals(new Chs(40, 16, 32), g.logical());
    }

    @Test
    void partitionTableWithMoreHeadsIsTheLogicalGeometryUnderTheHlePolicy() {
        long total = 8388608;   // 4 GiB written with 255/63
        byte[] mbr = mbr(254, 63, total - 63);
        DiskGeometry sea = DiskGeometry.of(total, mbr, null, DiskGeometry.Policy.SEABIOS);
        assertEquals(new Chs(8322, 16, 63), sea.physical());
        assertEquals(Translation.LBA, sea.translation(), "QEMU hints LBA: 8322*16 > 131072");
        assertEquals(new Chs(522, 255, 63), sea.logical());
        DiskGeometry hle = DiskGeometry.of(total, mbr, null, DiskGeometry.Policy.PARTITION_TABLE_FIRST);
        assertEquals(Translation.PARTITION_TABLE, hle.translation());
        assertEquals(new Chs(522, 255, 63), hle.logical());

        // The SeaBIOS-list case: an image installed with 32 sectors per track.
        byte[] win = mbr(254, 32, total - 32);
        assertEquals(new Chs(1024, 255, 32),
                DiskGeometry.of(total, win, null, DiskGeometry.Policy.PARTITION_TABLE_FIRST).logical());
        assertEquals(new Chs(8322, 16, 63), DiskGeometry.of(total, win, null, DiskGeometry.Policy.SEABIOS).physical());
        assertEquals(Translation.LBA, DiskGeometry.of(total, win, null, DiskGeometry.Policy.SEABIOS).translation());
    }

    @Test
    void smallDiskWithManyPartitionHeadsGetsLargeHint() {
        long total = 131072;    // 64 MiB written with 64 heads, 32 sectors
        DiskGeometry g = DiskGeometry.of(total, mbr(63, 32, total - 32), null, DiskGeometry.Policy.SEABIOS);
        assertEquals(Translation.LARGE, g.translation());
        assertEquals(new Chs(130, 16, 63), g.logical());
    }

    @Test
    void unusablePartitionTablesAreIgnored() {
        long total = 131072;
        byte[] noSignature = mbr(63, 32, 1000);
        noSignature[510] = 0;
        assertNull(DiskGeometry.partitionTableGeometry(noSignature, total));
        assertNull(DiskGeometry.partitionTableGeometry(mbr(0, 32, 1000), total), "end head 0");
        assertNull(DiskGeometry.partitionTableGeometry(mbr(63, 0, 1000), total), "end sector 0");
        assertNull(DiskGeometry.partitionTableGeometry(mbr(63, 32, 0), total), "empty entry");
        assertNull(DiskGeometry.partitionTableGeometry(mbr(0, 1, 1000), 1L << 40), "too many cylinders");
    }

    @Test
    void overrideIsUsedAsIs() {
        DiskGeometry g = DiskGeometry.of(8388608, null, Chs.parseBiosChs("1024/240/63"), DiskGeometry.Policy.SEABIOS);
        assertEquals(Translation.HOST, g.translation());
        assertEquals(new Chs(1024, 240, 63), g.logical());
        assertEquals(new Chs(8322, 16, 63), g.physical());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1/2", "1/2/3/4", "0/16/63", "1025/16/63", "100/256/63", "100/16/64", "100/16/0",
            "a/b/c", "-1/16/63"})
    void badOverridesNameTheValueAndTheRanges(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Chs.parseBiosChs(text));
        assertTrue(e.getMessage().startsWith("bios-chs: " + text + " (expected: C/H/S"), e.getMessage());
    }

    @Test
    void dpteReportsTheTranslationType() {
        DiskGeometry lba = DiskGeometry.of(8388608, null, null, DiskGeometry.Policy.SEABIOS);
        DiskGeometry none = DiskGeometry.of(20480, null, null, DiskGeometry.Policy.SEABIOS);
        DiskGeometry large = DiskGeometry.of(131072, mbr(63, 32, 131040), null, DiskGeometry.Policy.SEABIOS);
        assertEquals(0x0218, options(lba));
        assertEquals(0x0010, options(none));
        assertEquals(0x0018, options(large));
    }

    static int options(DiskGeometry g) {
        byte[] dpte = EddParameters.dpte(new MemoryDrive(g));
        return (dpte[10] & 0xFF) | (dpte[11] & 0xFF) << 8;
    }


    /** Code or text where the partition table would be (a bare boot sector) does not set the geometry. */
    @org.junit.jupiter.api.Test
    void bootSectorTextIsNotAPartitionTable() {
        byte[] mbr = mbr(69, 13, 100_000);
        mbr[0x1be] = 'U';   // boot indicator neither 00h nor 80h: "IOEMU-DEMO-DONE" text, as in a real boot sector
        DiskGeometry g = DiskGeometry.of(131072, mbr, null, DiskGeometry.Policy.PARTITION_TABLE_FIRST);
        assertEquals(new Chs(130, 16, 63), g.physical());
        org.junit.jupiter.api.Assertions.assertNotEquals(Translation.PARTITION_TABLE, g.translation());
        mbr[0x1be] = (byte) 0x80;
        assertEquals(Translation.PARTITION_TABLE,
                DiskGeometry.of(131072, mbr, null, DiskGeometry.Policy.PARTITION_TABLE_FIRST).translation());
    }
}
