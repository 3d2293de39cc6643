; icount-pit.asm: how many times a guest can poll port 61h while PIT channel 2 counts down
; 11,932 ticks (10 ms) — GRUB's TSC calibration in miniature. The count printed on the debug
; console (0xE9) as hex is proportional to the CPU's instructions per virtual millisecond, so
; `-icount shift=N` (2^N ns per instruction) must scale it by 10 / 2^N against the default 10 ns.
bits 16
org 0x7c00
        cli
        in al, 0x61
        and al, 0xfc                    ; gate off, speaker off
        out 0x61, al
        mov al, 0xb0                    ; channel 2, lobyte/hibyte, mode 0, binary
        out 0x43, al
        mov ax, 11932
        out 0x42, al
        mov al, ah
        out 0x42, al
        in al, 0x61
        or al, 0x01                     ; gate on: the count starts
        out 0x61, al
        xor ebx, ebx
poll:   inc ebx
        in al, 0x61
        test al, 0x20                   ; OUT2 rises at terminal count
        jz poll
        mov cx, 8
.digit: rol ebx, 4
        mov al, bl
        and al, 0x0f
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '9' - 1
.out:   out 0xe9, al
        loop .digit
        mov al, 10
        out 0xe9, al
        xor al, al
        out 0xf4, al
        hlt
times 510 - ($ - $$) db 0
dw 0xaa55
