; Demo disk: the seed's story told by a boot sector. Firmware writes that must be in the image
; afterwards: it writes sectors through INT 13h with CHS (AH=03h) and EDD (AH=43h), reads them
; back through the other path and compares, prints its progress to COM1 (0x3F8) and to the
; debug port 0xE9, then ends the machine through isa-debug-exit (value 0: QEMU status 1 on
; success; value 1: status 3 on any failure).
;
; What it writes (checked by the test in the image file):
;   LBA 16      AH=03h C0/H0/S17, one sector  "IOEMU-DEMO CHS  sector 16" padded with '.'
;   LBA 17-19   AH=43h, three sectors         "IOEMU-DEMO EDD  sector 17" ... 19
bits 16
org 0x7c00

BUF     equ 0x8000                  ; sector contents built here
RBUF    equ 0x9000                  ; read-back buffer

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    jmp 0:.go
.go:
    sti
    cld
    mov [drive], dl
    mov si, msg_start
    call puts

    ; AH=03h CHS write of LBA 16 (cylinder 0, head 0, sector 17: inside every geometry)
    mov di, BUF
    mov al, 'C'
    mov bl, 16
    call build_sector
    mov ax, 0x0301
    mov cx, 0x0011
    mov dh, 0
    mov dl, [drive]
    mov bx, BUF
    int 0x13
    jc fail
    mov si, msg_chs
    call puts

    ; AH=43h EDD write of LBA 17-19 (built after LBA 16's sector, so BUF holds LBA 16-19)
    mov di, BUF + 512
    mov bl, 17
.three:
    mov al, 'E'
    call build_sector
    inc bl
    cmp bl, 20
    jb .three
    mov ah, 0x41
    mov bx, 0x55aa
    mov dl, [drive]
    int 0x13
    jc fail
    cmp bx, 0xaa55
    jne fail
    mov si, dap_write
    mov ah, 0x43
    xor al, al
    mov dl, [drive]
    int 0x13
    jc fail
    mov si, msg_edd
    call puts

    ; read LBA 16-19 back with AH=42h and compare with what was written
    mov si, dap_read
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc fail
    mov di, BUF
    mov bl, 16
    mov al, 'C'
    call build_sector               ; LBA 16 again (the AH=03h buffer), to compare BUF with RBUF
    mov si, BUF
    mov di, RBUF
    mov cx, 4 * 512
    repe cmpsb
    jne fail
    mov si, msg_verified
    call puts
    mov si, msg_done
    call puts
    xor al, al
    out 0xf4, al
    jmp halt

fail:
    mov si, msg_fail
    call puts
    mov al, 1
    out 0xf4, al
halt:
    cli
    hlt
    jmp halt

; Builds at ES:DI (advancing it) the 512-byte sector "IOEMU-DEMO CHS  sector NN" (AL = 'C') or
; "IOEMU-DEMO EDD  sector NN" (AL = 'E') for LBA BL, padded with '.'.
build_sector:
    push di
    push ax
    mov cx, 512
    mov al, '.'
    rep stosb
    pop ax
    pop di
    push di
    mov si, txt_chs
    cmp al, 'C'
    je .copy
    mov si, txt_edd
.copy:
    mov cx, txt_len
    rep movsb
    mov al, bl
    aam                             ; AH = tens, AL = units
    add ax, '00'
    xchg al, ah
    stosw
    pop di
    add di, 512
    ret

puts:
    lodsb
    test al, al
    jz .done
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
    jmp puts
.done:
    ret

drive: db 0
txt_chs: db "IOEMU-DEMO CHS  sector "
txt_len equ $ - txt_chs
txt_edd: db "IOEMU-DEMO EDD  sector "
dap_write: db 0x10, 0
           dw 3, BUF + 512, 0
           dq 17
dap_read:  db 0x10, 0
           dw 4, RBUF, 0
           dq 16
msg_start:    db "demo: start", 13, 10, 0
msg_chs:      db "demo: AH=03h wrote LBA 16", 13, 10, 0
msg_edd:      db "demo: AH=43h wrote LBA 17-19", 13, 10, 0
msg_verified: db "demo: AH=42h read back equal", 13, 10, 0
msg_done:     db "IOEMU-DEMO-DONE", 13, 10, 0
msg_fail:     db "IOEMU-DEMO-FAILED", 13, 10, 0
    times 510 - ($ - $$) db 0
    dw 0xaa55
