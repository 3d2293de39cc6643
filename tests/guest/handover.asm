; Hand-over boot sector (issue 11): the 2007 story's first half. It writes a known pattern
; through the BIOS, INT 13h AH=43h (EDD) and AH=03h (CHS), reports each call's AH and CF on the
; debug port 0xE9 and COM1, then says "HANDOVER" and halts with interrupts off, as a boot loader
; does before the OS driver takes over and reads the disk below the host's page cache. It never
; flushes: a test that reads the image at "HANDOVER" sees only what the firmware made durable.
;
; What it writes (HandoverTest checks the image's backing file with O_DIRECT):
;   LBA 64-71  AH=43h, eight sectors (one 4 KiB block)   "IOEMU-HANDOVER 43h sector N" + (i*7+N)
;   LBA 40     AH=03h C0/H0/S41, one sector               "IOEMU-HANDOVER 03h sector 0" + (i*7)
; Console lines: "W43 AH=xx CF=c", "W03 AH=xx CF=c", then "HANDOVER". A failed write goes on to
; the next one, so a sticky flush error shows on both lines.
bits 16
org 0x7c00

BUF     equ 0x8000                  ; eight sectors of pattern

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

    ; the pattern: sector N of BUF = text, N, then (i*7 + N) & 0xFF for i = 28..511
    mov di, BUF
    xor bx, bx                      ; BL = sector index
.sector:
    mov si, txt
    mov cx, txt_len
    rep movsb
    mov al, bl
    add al, '0'
    stosb
    mov cx, 512 - txt_len - 1
    mov al, txt_len + 1
    mov ah, 7
    mul ah                          ; AL = (i*7) & 0xFF for the first filler byte i
    add al, bl
.fill:
    stosb
    add al, 7
    loop .fill
    inc bl
    cmp bl, 8
    jb .sector

    ; AH=43h: LBA 64-71 from BUF
    mov si, dap
    mov ax, 0x4300
    mov dl, [drive]
    int 0x13
    mov si, msg_w43
    call report

    ; AH=03h: sector 0's pattern again, with "03h" in place of "43h", to LBA 40 (C0/H0/S41)
    mov byte [BUF + txt_fn], '0'
    mov ax, 0x0301
    mov cx, 0x0029
    xor dh, dh
    mov dl, [drive]
    mov bx, BUF
    int 0x13
    mov si, msg_w03
    call report

    mov si, msg_handover
    call puts
    cli
halt:
    hlt
    jmp halt

; Prints the line at SI followed by "AH=xx CF=c" for the INT 13h call that just returned.
report:
    pushf
    push ax
    call puts
    pop ax
    mov al, ah
    shr al, 4
    call hexdigit
    mov al, ah
    call hexdigit
    mov si, msg_cf
    call puts
    popf
    mov al, '0'
    adc al, 0
    call putc
    mov si, msg_eol
    jmp puts

hexdigit:
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 'a' - '9' - 1
; Sends AL to 0xE9 and COM1 (waiting, bounded, for the UART's transmitter).
putc:
    push ax
    push cx
    push dx
    out 0xe9, al
    mov ah, al
    mov dx, 0x3fd
    mov cx, 0xffff
.wait:
    in al, dx
    test al, 0x20
    loopz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    pop dx
    pop cx
    pop ax
    ret

puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

drive: db 0
txt:    db "IOEMU-HANDOVER 43h sector "
txt_len equ $ - txt
txt_fn  equ 15                      ; offset of the '4' of "43h"
dap:    db 0x10, 0
        dw 8, BUF, 0
        dq 64
msg_w43:      db "W43 AH=", 0
msg_w03:      db "W03 AH=", 0
msg_cf:       db " CF=", 0
msg_eol:      db 13, 10, 0
msg_handover: db "HANDOVER", 13, 10, 0
    times 510 - ($ - $$) db 0
    dw 0xaa55
