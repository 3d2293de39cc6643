; translate-determinism.asm: hot guest loops, then the virtual time they took (issue 10).
; A GRUB-style byte memmove loop (cmp/jz/movsb/jmp) and an arithmetic loop run 40 times; then
; the sector prints a checksum of the copied bytes and the loops' result, and RDTSC (which
; counts retired instructions under ioemu's software CPU), as hex on the debug console (0xE9),
; and exits through isa-debug-exit. Same disk, same output: with compiled traces on or off.
bits 16
org 0x7c00
        cli
        mov ax, 0x1000
        mov ds, ax
        mov ax, 0x2000
        mov es, ax
        xor si, si                      ; source pattern: 0x1000:0000..F000
        mov cx, 0xF000
fill:   mov [si], cl
        xor byte [si], 0x5a
        inc si
        loop fill
        mov ebp, 40
outer:  xor si, si
        xor di, di
        mov cx, 0xF000
copy:   cmp cx, di                      ; grub_memmove's forward byte loop
        jz copied
        movsb
        jmp copy
copied: mov ecx, 100000
        xor eax, eax
arith:  add eax, ecx
        xor eax, 0x5a5a
        rol eax, 3
        dec ecx
        jnz arith
        add [es:0x10], eax
        inc byte [ds:bp]
        dec ebp
        jnz outer
        xor ebx, ebx                    ; checksum of the copy
        xor di, di
        mov cx, 0xF000
sum:    movzx eax, byte [es:di]
        add ebx, eax
        rol ebx, 1
        inc di
        loop sum
        call hex32
        rdtsc
        mov ebx, edx
        call hex32
        rdtsc
        mov ebx, eax
        call hex32
        mov al, 10
        out 0xe9, al
        xor al, al
        out 0xf4, al
        hlt
hex32:  mov cx, 8
.digit: rol ebx, 4
        mov al, bl
        and al, 0x0f
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '9' - 1
.out:   out 0xe9, al
        loop .digit
        mov al, ' '
        out 0xe9, al
        ret
times 510 - ($ - $$) db 0
dw 0xaa55
