; A DOS-style boot sector that hooks INT 13h (as DOS, memdisk and GRUB's drivemap do) and chains
; to the BIOS's handler: its handler counts the calls, chains with PUSHF + CALL FAR for reads
; (post-processing, then RETF 2 so the BIOS's flags reach the caller) and with JMP FAR for the
; rest. Through the hook it calls AH=08h, AH=02h (LBA 0), AH=41h and AH=42h (LBA 0), checks
; that both reads return this sector, and prints to 0xE9:
;   "hook: AH=08h ok", "hook: AH=02h ok", "hook: AH=41h ok", "hook: AH=42h ok",
;   "hook: calls=4 reads=2", "IOEMU-HOOK-DONE" — or "IOEMU-HOOK-FAILED at <step>".
; Exit through isa-debug-exit: value 0 (QEMU status 1) on success, 1 (status 3) on failure.
; Facts: shared/spec/int13.md §7 (boot), §3; issue 9's proof ("hooks INT 13h and chains").
bits 16
org 0x7c00

; Variables live outside the sector, so the sector in memory stays equal to LBA 0.
drive   equ 0x0600
step    equ 0x0601
calls   equ 0x0602
reads   equ 0x0604
old13   equ 0x0606

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    jmp 0:.go
.go:
    mov [drive], dl
    mov dword [calls], 0            ; calls and reads
    mov eax, [0x13 * 4]             ; keep the BIOS's vector, install ours
    mov [old13], eax
    mov word [0x13 * 4], hook
    mov word [0x13 * 4 + 2], 0
    sti
    cld

    mov byte [step], '8'
    mov ah, 0x08
    mov dl, [drive]
    xor di, di                      ; ES:DI = 0:0 guard (RBIL)
    int 0x13
    jc fail
    test cl, 0x3f
    jz fail
    mov si, msg_08
    call puts

    mov byte [step], '2'
    mov ax, 0x0201
    mov cx, 0x0001
    xor dh, dh
    mov dl, [drive]
    mov bx, 0x8000
    int 0x13
    jc fail
    mov si, 0x8000
    call same_as_me
    mov si, msg_02
    call puts

    mov byte [step], 'A'
    mov ah, 0x41
    mov bx, 0x55aa
    mov dl, [drive]
    int 0x13
    jc fail
    cmp bx, 0xaa55
    jne fail
    mov si, msg_41
    call puts

    mov byte [step], 'E'
    mov ah, 0x42
    mov dl, [drive]
    mov si, dap
    int 0x13
    jc fail
    mov si, 0x9000
    call same_as_me
    mov si, msg_42
    call puts

    mov byte [step], 'C'
    cmp word [calls], 4
    jne fail
    cmp word [reads], 2
    jne fail
    mov si, msg_counts
    call puts
    mov si, msg_done
    call puts
    xor al, al
    out 0xf4, al
    jmp halt

fail:
    mov si, msg_fail
    call puts
    mov al, [step]
    out 0xe9, al
    mov al, 10
    out 0xe9, al
    mov al, 1
    out 0xf4, al
halt:
    cli
    hlt
    jmp halt

; Compares the 512 bytes at DS:SI with this boot sector; jumps to fail if they differ.
same_as_me:
    mov di, 0x7c00
    mov cx, 512
    repe cmpsb
    jne fail
    ret

puts:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp puts
.done:
    ret

; The hook: counts every call; reads go through PUSHF + CALL FAR and come back with the BIOS's
; flags (RETF 2 drops the caller's); everything else is a tail jump to the BIOS.
hook:
    inc word [cs:calls]
    cmp ah, 0x02
    je .read
    cmp ah, 0x42
    je .read
    jmp far [cs:old13]
.read:
    pushf
    call far [cs:old13]
    inc word [cs:reads]
    retf 2

dap:   db 0x10, 0
       dw 1, 0x9000, 0
       dq 0
msg_08:     db "hook: AH=08h ok", 10, 0
msg_02:     db "hook: AH=02h ok", 10, 0
msg_41:     db "hook: AH=41h ok", 10, 0
msg_42:     db "hook: AH=42h ok", 10, 0
msg_counts: db "hook: calls=4 reads=2", 10, 0
msg_done:   db "IOEMU-HOOK-DONE", 10, 0
msg_fail:   db "IOEMU-HOOK-FAILED at ", 0
    times 510 - ($ - $$) db 0
    dw 0xaa55
