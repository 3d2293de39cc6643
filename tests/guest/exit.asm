; A boot-sector image that syslinux chain-loads ("KERNEL exit.bs" in syslinux.cfg): it prints a
; marker to COM1 and to the debug port 0xE9, then ends the machine through isa-debug-exit with
; value 21h (QEMU exit status 43h = 67). Our code, so the workload has a defined end.
bits 16
org 0x7c00
    cli
    xor ax, ax
    mov ds, ax
    mov si, marker
.next:
    lodsb
    test al, al
    jz .exit
    out 0xe9, al
    mov ah, al
    mov dx, 0x3fd
    mov cx, 0xffff
.wait:
    in al, dx                       ; LSR: wait for THRE (bounded)
    test al, 0x20
    loopz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp .next
.exit:
    mov al, 0x21
    out 0xf4, al
.halt:
    hlt
    jmp .halt
marker: db "IOEMU-EXIT-BS reached", 13, 10, 0
    times 510 - ($ - $$) db 0
    dw 0xaa55
