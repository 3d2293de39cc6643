; Fault-injection boot sector (issue 14): what a guest sees from INT 13h when the host fails.
; FaultInjectionEndToEndTest boots it on the software CPU with -drive inject-error rules and reads
; the lines it prints on the debug port 0xE9, one per call, "NAME AH=xx CF=c":
;   R42  AH=42h read LBA 100, one sector, into 0:8000h
;   S01  AH=01h status of the last operation
;   W43  AH=43h write LBA 200 from 0:8200h (a sector of 'W')
;   X43  AH=43h write LBA 300 from 0:8200h
;   S01  AH=01h again
; then "DONE" and the debug-exit device ends the run (status 1).
bits 16
org 0x7c00

BUF     equ 0x8000

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
    mov di, BUF + 512
    mov cx, 512
    mov al, 'W'
    rep stosb

    mov si, dap_read
    mov ah, 0x42
    call disk
    mov si, msg_r42
    call report

    mov ah, 0x01
    call disk
    mov si, msg_s01
    call report

    mov si, dap_w200
    mov ax, 0x4300
    call disk
    mov si, msg_w43
    call report

    mov si, dap_w300
    mov ax, 0x4300
    call disk
    mov si, msg_x43
    call report

    mov ah, 0x01
    call disk
    mov si, msg_s01
    call report

    mov si, msg_done
    call puts
    mov al, 0
    out 0xf4, al
    cli
halt:
    hlt
    jmp halt

disk:
    mov dl, [drive]
    int 0x13
    ret

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
    mov al, 10
    jmp putc

hexdigit:
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 'a' - '9' - 1
putc:
    out 0xe9, al
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
dap_read: db 0x10, 0
        dw 1, BUF, 0
        dq 100
dap_w200: db 0x10, 0
        dw 1, BUF + 512, 0
        dq 200
dap_w300: db 0x10, 0
        dw 1, BUF + 512, 0
        dq 300
msg_r42:  db "R42 AH=", 0
msg_s01:  db "S01 AH=", 0
msg_w43:  db "W43 AH=", 0
msg_x43:  db "X43 AH=", 0
msg_cf:   db " CF=", 0
msg_done: db "DONE", 10, 0
    times 510 - ($ - $$) db 0
    dw 0xaa55
