; INT 13h boot-sector probe for SeaBiosComparisonTest: a fixed sequence of INT 13h calls, good
; and bad, each followed by one line on the debug port E9h: AX BX CX DX (FLAGS & 0201h) [40:74],
; and hex dumps of the AH=48h result buffers and AH=42h packet counts. The test runs it under
; QEMU + SeaBIOS and replays the same calls through the trap contract; SeaBiosComparisonTest
; lists the bytes allowed to differ. Exits through isa-debug-exit (port F4h). Sector 0 loads
; sectors 1-2 (the rest of the probe) first; the partition table area stays free for the test.
bits 16
org 0x7c00
start:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    ; the rest of the probe: sectors 1-2 to 0000:7E00 (not reported)
    mov ax, 0x0202
    mov cx, 0x0002
    mov dx, 0x0080
    mov bx, 0x7e00
    int 0x13
    jmp main
    times 446-($-$$) db 0
    times 64 db 0
    dw 0xaa55
main:
    xor bx, bx
    xor cx, cx
    ; AH=08
    mov ax, 0x0800
    mov dx, 0x0080
    int 0x13
    call dump
    ; AH=15
    mov ax, 0x1500
    mov dx, 0x0080
    int 0x13
    call dump
    ; AH=41
    mov ax, 0x4100
    mov bx, 0x55aa
    mov dx, 0x0080
    int 0x13
    call dump
    xor cx, cx
    ; AH=48 size 1Eh
    mov word [0x600], 0x1e
    mov si, 0x600
    mov ax, 0x4800
    mov dx, 0x0080
    int 0x13
    call dump
    mov si, 0x600
    mov cx, 0x1e
    call dumpmem
    ; AH=48 size 4Ah
    mov word [0x600], 0x4a
    mov si, 0x600
    mov ax, 0x4800
    mov dx, 0x0080
    int 0x13
    call dump
    mov si, 0x600
    mov cx, 0x4a
    call dumpmem
    ; AH=02 count 0, then AH=01
    mov ax, 0x0200
    mov cx, 0x0001
    mov dx, 0x0080
    mov bx, 0x1000
    int 0x13
    call dump
    mov ax, 0x0100
    mov dx, 0x0080
    int 0x13
    call dump
    mov ax, 0x0100
    mov dx, 0x0080
    int 0x13
    call dump
    ; AH=42 lba beyond end
    mov byte [0x700], 0x10
    mov word [0x702], 5
    mov dword [0x704], 0x10000000
    mov dword [0x708], 0xfffffff0
    mov dword [0x70c], 0
    mov si, 0x700
    mov ax, 0x4200
    mov dx, 0x0080
    int 0x13
    call dump
    mov ax, [0x702]
    call hex16
    mov al, 10
    out 0xe9, al
    ; AH=42 count 200
    mov word [0x702], 200
    mov dword [0x708], 0
    mov si, 0x700
    mov ax, 0x4200
    mov dx, 0x0080
    int 0x13
    call dump
    mov ax, [0x702]
    call hex16
    mov al, 10
    out 0xe9, al
    ; absent drive AH=08
    mov ax, 0x0800
    mov dx, 0x0081
    int 0x13
    call dump
    ; the table below: one call per entry (AX, BX, CX, DX), ES:BX = 0000:1000
    mov si, calls
next:
    cmp si, calls_end
    jae done
    mov ax, [si]
    mov bx, [si+2]
    mov cx, [si+4]
    mov dx, [si+6]
    push si
    int 0x13
    call dump
    pop si
    add si, 8
    jmp next
done:
    mov al, 0
    out 0xf4, al
    hlt
calls:
    dw 0x4600, 0, 0, 0x0080         ; eject a fixed disk: B2h
    dw 0x4E02, 0, 0, 0x0080         ; hardware configuration AL=02h: 01h
    dw 0x4E06, 0, 0, 0x0080         ; AL=06h: success
    dw 0x0540, 0, 0, 0x0080         ; format 64 sectors: 01h
    dw 0x0501, 0, 0, 0x0080         ; format 1 sector: success
    dw 0x0201, 0x1000, 0x0001, 0x0080   ; read CHS 0/0/1
    dw 0x0201, 0x1000, 0x0000, 0x0080   ; sector 0: 01h
    dw 0x0201, 0x1000, 0x0001, 0xFF80   ; head 255: 01h
    dw 0x0281, 0x1000, 0x0001, 0x0080   ; 129 sectors: 01h
    dw 0x0401, 0x1000, 0x0001, 0x0080   ; verify 1
    dw 0x1000, 0, 0, 0x0080         ; drive ready
    dw 0x4500, 0, 0, 0x0080         ; lock
    dw 0x4900, 0, 0, 0x0080         ; media changed
    dw 0x0900, 0, 0, 0x0080
    dw 0x0C00, 0, 0, 0x0080
    dw 0x0D00, 0, 0, 0x0080
    dw 0x1100, 0, 0, 0x0080
    dw 0x1400, 0, 0, 0x0080
    dw 0x0000, 0, 0, 0x0080         ; reset
    dw 0x5000, 0, 0, 0x0080         ; unknown function: 01h
    dw 0x1500, 0, 0, 0x0081         ; absent drive: 01h
    dw 0x4100, 0x55AA, 0, 0x0000    ; no diskette: 01h
    dw 0x0800, 0, 0, 0x0000         ; no diskette: 01h
calls_end:

dump:   ; AX BX CX DX FLAGS
    pushf
    push dx
    push cx
    push bx
    call hex16
    mov al, ' '
    out 0xe9, al
    pop ax
    call hex16
    mov al, ' '
    out 0xe9, al
    pop ax
    call hex16
    mov al, ' '
    out 0xe9, al
    pop ax
    call hex16
    mov al, ' '
    out 0xe9, al
    pop ax
    and ax, 0x0201
    call hex16
    mov al, ' '
    out 0xe9, al
    mov al, [0x474]
    call hex8
    mov al, 10
    out 0xe9, al
    ret
dumpmem:
    lodsb
    call hex8
    loop dumpmem
    mov al, 10
    out 0xe9, al
    ret
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
times 1536-($-$$) db 0
