; Boot sector for SeaBiosBootTest: the first boot marks LBA 1 through INT 13h and reboots with
; JMP FFFF:0000 (SeaBIOS's reboot path); the next boot finds the mark and exits through
; isa-debug-exit with status (10h << 1) | 1 = 21h. 0xE9 shows 'R' per reboot, 'B' at the end.
bits 16
org 0x7c00
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    mov [drive], dl
    mov ax, 0x0201              ; read C0/H0/S2 (LBA 1) to 0000:8000
    call lba1
    jc fail
    cmp byte [0x8000], 0
    jne second
    mov byte [0x8000], 1
    mov ax, 0x0301              ; write it back marked
    call lba1
    jc fail
    mov al, 'R'
    out 0xe9, al
    jmp 0xffff:0x0000
second:
    mov al, 'B'
    out 0xe9, al
    mov al, 0x10
    out 0xf4, al
    hlt
fail:
    mov al, 'F'
    out 0xe9, al
    mov al, 0x7f
    out 0xf4, al
    hlt
lba1:
    mov bx, 0x8000
    mov cx, 0x0002
    mov dh, 0
    mov dl, [drive]
    int 0x13
    ret
drive: db 0
times 510-($-$$) db 0
dw 0xaa55
