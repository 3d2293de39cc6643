; Runs the ROM's INT 08h code (sector 1 of the disk, written by RomCodeUnderQemuTest from
; BiosRom) on QEMU's CPU with SeaBIOS's PIC and PIT: the tick count starts one tick before
; midnight (1800AFh), a counting INT 1Ch hook is installed, and after three ticks the probe
; prints the tick dword at 40:6C, the rollover byte at 40:70 and the INT 1Ch count on port E9h.
bits 16
org 0x7c00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    mov ax, 0x0201              ; sector 1 (the ROM's INT 08h code) to 0000:9000
    mov cx, 0x0002
    mov dx, 0x0080
    mov bx, 0x9000
    int 0x13
    cli
    mov word [0x500], 0
    mov dword [0x46c], 0x001800af
    mov byte [0x470], 0
    mov word [0x1c*4], hook1c
    mov word [0x1c*4+2], 0
    mov word [0x08*4], 0x9000
    mov word [0x08*4+2], 0
    sti
idle:
    hlt
    cmp word [0x500], 3
    jb idle
    cli
    mov ax, [0x46e]
    call hex16
    mov ax, [0x46c]
    call hex16
    mov al, ' '
    out 0xe9, al
    mov al, [0x470]
    call hex8
    mov al, ' '
    out 0xe9, al
    mov ax, [0x500]
    call hex16
    mov al, 10
    out 0xe9, al
    mov al, 0
    out 0xf4, al
    hlt
hook1c:                         ; DS is 40h here (the ROM code set it): count through CS
    inc word [cs:0x500]
    iret
hex16:
    push ax
    mov al, ah
    call hex8
    pop ax
hex8:
    push ax
    shr al, 4
    call nib
    pop ax
    and al, 0x0f
nib:
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 7
.o: out 0xe9, al
    ret
times 510-($-$$) db 0
dw 0xaa55
