; Bulk firmware writes for tools/bench/firmware-writes.sh (issue 11's cost of safety): 1 MiB
; written through INT 13h AH=43h in sixteen 64 KiB calls (128 sectors each, the most SeaBIOS
; takes in one call) to LBA 2048 onwards, then isa-debug-exit with 0 (QEMU-style status 1), or
; with 1 (status 3) if any call returned CF=1. The buffer holds a byte pattern so no sector is
; all zeros. Progress on the debug port 0xE9: "BULK-DONE" or "BULK-FAILED".
bits 16
org 0x7c00

BUF_SEG equ 0x1000                  ; 64 KiB buffer at linear 10000h
CALLS   equ 16

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    jmp 0:.go
.go:
    cld
    mov [drive], dl
    mov ax, BUF_SEG
    mov es, ax
    xor di, di
    xor ax, ax
    mov cx, 0x8000
.fill:
    stosw                           ; word i = i: a pattern, not zeros
    inc ax
    loop .fill

    mov cx, CALLS
.call:
    push cx
    mov si, dap
    mov ax, 0x4300
    mov dl, [drive]
    int 0x13
    pop cx
    jc fail
    add word [dap_lba], 128
    loop .call
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

puts:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp puts
.done:
    ret

drive: db 0
dap:     db 0x10, 0
         dw 128, 0, BUF_SEG
dap_lba: dq 2048
msg_done: db "BULK-DONE", 13, 10, 0
msg_fail: db "BULK-FAILED", 13, 10, 0
    times 510 - ($ - $$) db 0
    dw 0xaa55
