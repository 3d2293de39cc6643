; INT 13h probe: a boot sector (plus the sectors it loads) that calls the BIOS disk services and
; the services boot loaders need, with good and bad inputs, and prints one line per call to the
; debug port 0xE9: the output registers (32-bit, so clobbered high halves show), SP, DS, ES, FLAGS
; masked to the defined flags, the BDA bytes 40:74 (last disk status) and 40:75 (disk count) and
; the returned buffers. It ends with "END" and leaves through isa-debug-exit (port 0xF4), so a
; QEMU run exits with status 1.
;
; Facts: shared/spec/int13.md (§3 functions, §5 geometry, §8 other services). The case table at the
; end is the list of calls; tests/guest/build-probe.sh assembles this file and builds the images,
; and the tests in dev.ioemu.tests.guest compare the lines of two BIOSes.
;
; Determinism: every call starts from the same registers and FLAGS (IF=1, CF as the case says);
; values that depend on the wall clock (INT 1Ah ticks and RTC time/date) are masked per byte in the
; case table and print as "--".
;
; Disk writes go only to sectors reserved for them (the test checks the image file afterwards):
;   LBA 29-30  AH=03h, CHS 0/0/30 count 2, tag 03h
;   LBA 40-43  AH=43h, count 4, tag 43h
;   LBA 44     AH=43h with AL=02h (write with verify), first sector of the tag-43h buffer
;   last LBA   AH=43h, count 1, tag 4Ch
; Each written sector holds "IOEMUPRB", the tag, the sector's index in its buffer, then
; byte i = (i*3 + tag) & 0FFh (see fill_pattern).

bits 16
org 0x7c00

DEBUG_PORT      equ 0xe9
EXIT_PORT       equ 0xf4

; Buffers (segment 0 unless noted)
EDD_BUF         equ 0x6000          ; AH=48h result buffer, pre-filled with CCh
DAP_BUF         equ 0x6100          ; disk address packet for AH=42h-47h
E820_BUF        equ 0x6200
WBUF03          equ 0x1000          ; 2 sectors written by AH=03h
WBUF43          equ 0x1400          ; 4 sectors written by AH=43h
WBUFLAST        equ 0x1c00          ; 1 sector written to the last LBA
RBUF_SEG        equ 0x1000          ; reads land at 1000:0000 (up to 128 sectors)
FLAT_BUF        equ 0x20000         ; 64-bit flat buffer of the 18h-byte DAP case

; Case flags
F_CHAIN_EBX     equ 0x01            ; repeat with EBX := returned EBX while EBX != 0 and CF = 0 (E820)
F_PREFILL       equ 0x02            ; fill the dump area with CCh before the call
F_LBA_TOTAL     equ 0x04            ; DAP LBA := total sectors + (signed dword at DAP+8)
F_SAVE_TOTAL    equ 0x08            ; remember the qword at dump area + 10h (AH=48h total sectors)
F_STC           equ 0x10            ; call with CF=1 (Linux presets it for E801h/88h)
F_DUMP_DAP      equ 0x20            ; also print the 16 bytes of the DAP after the call

; Dump kinds
D_NONE          equ 0
D_HEX           equ 1               ; hex of len bytes at seg:off
D_HEX_ESBX      equ 2               ; hex of len bytes at the returned ES:BX
D_SUM           equ 3               ; 32-bit byte sum of len sectors at seg:0000
D_EDD           equ 4               ; hex of len bytes at seg:off, then the DPTE it points to (+1Ah)

; Byte masks (bit n = byte n of EAX, EBX, ECX, EDX, ESI, EDI, EBP, low byte first)
M_AL equ 1 << 0
M_CL equ 1 << 8
M_CH equ 1 << 9
M_DL equ 1 << 12
M_DH equ 1 << 13

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    jmp 0:.flat                     ; CS = 0 whichever way the BIOS jumped here
.flat:
    sti
    cld
    mov [boot_drive], dl
    mov ax, 0x0200 + STAGE2_SECTORS ; read the rest of the probe: CHS 0/0/2 onwards to 0:7E00
    mov cx, 0x0002
    xor dh, dh
    mov bx, stage2
    int 0x13
    jc .failed
    jmp stage2
.failed:
    mov si, load_failed
.print:
    lodsb
    test al, al
    jz .exit
    out DEBUG_PORT, al
    jmp .print
.exit:
    out EXIT_PORT, al
    cli
    hlt

load_failed: db "probe: loading the probe's sectors failed", 10, 0
boot_drive: db 0

    times 446 - ($ - $$) db 0       ; partition table (written by the image builder for one image)
    times 510 - ($ - $$) db 0
    dw 0xaa55

; ---------------------------------------------------------------------------------------------
stage2:
    mov si, banner
    call puts
    mov di, WBUF03
    mov cx, 2
    mov al, 0x03
    call fill_pattern
    mov di, WBUF43
    mov cx, 4
    mov al, 0x43
    call fill_pattern
    mov di, WBUFLAST
    mov cx, 1
    mov al, 0x4c
    call fill_pattern

    mov si, cases
.next_case:
    cmp word [si], 0xffff
    je .done
    mov [case_ptr], si
    mov dword [iteration], 0
    mov eax, [si + C_EBX]
    mov [chain_ebx], eax
.again:
    call run_case
    mov si, [case_ptr]
    test byte [si + C_FLAGS], F_CHAIN_EBX
    jz .skip_name
    inc dword [iteration]
    test byte [out_flags], 1
    jnz .skip_name
    mov eax, [out_ebx]
    mov [chain_ebx], eax
    test eax, eax
    jz .skip_name
    cmp dword [iteration], 32
    jb .again
.skip_name:
    lea si, [si + C_NAME]           ; the name string ends the record
.skip:
    lodsb
    test al, al
    jnz .skip
    jmp .next_case
.done:
    mov si, end_line
    call puts
    xor al, al
    out EXIT_PORT, al
    cli
.halt:
    hlt
    jmp .halt

; Runs the case at [case_ptr] once and prints its line.
run_case:
    mov si, [case_ptr]
    ; prefill the dump area
    test byte [si + C_FLAGS], F_PREFILL
    jz .no_prefill
    push es
    mov es, [si + C_DSEG]
    mov di, [si + C_DOFF]
    mov cx, [si + C_DLEN]
    cmp byte [si + C_DKIND], D_SUM
    jne .fill
    shl cx, 9                       ; sectors -> bytes (0 means 64 KiB)
    jnz .fill
    mov al, 0xcc
    mov cx, 0x8000
    rep stosb
    mov cx, 0x8000                  ; the second half
.fill:
    mov al, 0xcc
    rep stosb
    pop es
.no_prefill:
    ; copy the setup bytes (packet or size word)
    mov cx, [si + C_SETUPLEN]
    jcxz .no_setup
    push si
    mov di, [si + C_SETUPDST]
    mov si, [si + C_SETUP]
    rep movsb
    pop si
    test byte [si + C_FLAGS], F_LBA_TOTAL
    jz .no_setup
    mov di, [si + C_SETUPDST]
    movsx eax, word [di + 8]        ; delta stored in the low word, sign-extended
    cdq
    add eax, [total]
    adc edx, [total + 4]
    mov [di + 8], eax
    mov [di + 12], edx
.no_setup:
    mov al, [si + C_INT]
    mov [cur_int], al
    mov eax, [si + C_EAX]
    mov [in_eax], eax
    mov eax, [chain_ebx]
    mov [in_ebx], eax
    mov eax, [si + C_ECX]
    mov [in_ecx], eax
    mov eax, [si + C_EDX]
    mov [in_edx], eax
    mov eax, [si + C_ESI]
    mov [in_esi], eax
    mov eax, [si + C_EDI]
    mov [in_edi], eax
    mov ax, [si + C_ES]
    mov [in_es], ax
    mov ax, [si + C_DS]
    mov [in_ds], ax
    mov ax, 0x0202                  ; IF=1, reserved bit 1
    test byte [si + C_FLAGS], F_STC
    jz .clc
    or al, 1
.clc:
    mov [in_flags], ax
    movzx bx, byte [cur_int]
    add bx, bx
    mov bx, [stub_for + bx]
    mov [stub], bx

    mov [saved_sp], sp
    mov eax, [in_eax]
    mov ebx, [in_ebx]
    mov ecx, [in_ecx]
    mov edx, [in_edx]
    mov esi, [in_esi]
    mov edi, [in_edi]
    mov ebp, 0x5a5a5a5a
    mov es, [in_es]
    push word [in_flags]
    mov ds, [cs:in_ds]
    popf
    call word [cs:stub]
    pushf
    mov [cs:out_eax], eax
    mov [cs:out_ebx], ebx
    mov [cs:out_ecx], ecx
    mov [cs:out_edx], edx
    mov [cs:out_esi], esi
    mov [cs:out_edi], edi
    mov [cs:out_ebp], ebp
    mov [cs:out_ds], ds
    mov [cs:out_es], es
    pop word [cs:out_flags]
    mov [cs:out_sp], sp
    xor ax, ax
    mov ds, ax
    mov sp, [saved_sp]
    sti
    cld

    mov si, [case_ptr]
    test byte [si + C_FLAGS], F_SAVE_TOTAL
    jz .no_save
    push es
    mov es, [si + C_DSEG]
    mov di, [si + C_DOFF]
    mov eax, [es:di + 0x10]
    mov [total], eax
    mov eax, [es:di + 0x14]
    mov [total + 4], eax
    pop es
.no_save:
    call print_line
    ret

; Prints the line of the case at [case_ptr] from the out_* values.
print_line:
    mov si, [case_ptr]
    lea si, [si + C_NAME]
    call puts
    mov si, [case_ptr]
    test byte [si + C_FLAGS], F_CHAIN_EBX
    jz .regs
    mov al, '#'
    call putc
    mov al, [iteration]
    call hex8
.regs:
    mov ebx, [si + C_MASK]
    mov [mask], ebx
    mov si, reg_names
    mov di, out_eax
    mov cx, 7
.reg:
    call puts                       ; " EAX=" ...
    push si
    mov eax, [di]
    call hex32_masked
    pop si
    add di, 4
    shr dword [mask], 4
    loop .reg
    mov si, s_sp
    call puts
    mov ax, [out_sp]
    sub ax, [saved_sp]              ; 0 when the BIOS left SP as it found it
    call hex16
    mov si, s_ds
    call puts
    mov ax, [out_ds]
    call hex16
    mov si, s_es
    call puts
    mov ax, [out_es]
    call hex16
    mov si, s_fl
    call puts
    mov ax, [out_flags]
    and ax, 0x0fd5                  ; CF PF AF ZF SF TF IF DF OF
    call hex16
    mov si, s_474
    call puts
    push es
    mov ax, 0x40
    mov es, ax
    mov al, [es:0x74]
    call hex8
    mov si, s_475
    call puts
    mov al, [es:0x75]
    call hex8
    pop es

    mov si, [case_ptr]
    mov al, [si + C_DKIND]
    cmp al, D_NONE
    je .dap
    cmp al, D_SUM
    je .sum
    push es
    cmp al, D_HEX_ESBX
    jne .at_case
    mov es, [out_es]
    mov di, [out_ebx]
    jmp .hex
.at_case:
    mov es, [si + C_DSEG]
    mov di, [si + C_DOFF]
.hex:
    mov cx, [si + C_DLEN]
    push si
    mov si, s_buf
    call puts
    pop si
    call hexdump
    mov si, [case_ptr]
    cmp byte [si + C_DKIND], D_EDD
    jne .hex_done
    mov di, [si + C_DOFF]
    cmp word [es:di], 0x1e          ; returned size covers the DPTE pointer
    jb .hex_done
    mov bx, [es:di + 0x1a]
    mov ax, [es:di + 0x1c]
    cmp bx, 0xffff
    jne .dpte
    cmp ax, 0xffff
    je .hex_done
.dpte:
    mov es, ax
    mov di, bx
    mov si, s_dpte
    call puts
    mov cx, 16
    call hexdump
.hex_done:
    pop es
    jmp .dap
.sum:
    mov si, s_sum
    call puts
    mov si, [case_ptr]
    push ds
    mov cx, [si + C_DLEN]
    mov ax, [si + C_DSEG]
    xor ebx, ebx
    xor edx, edx
.sum_sector:
    mov ds, ax
    xor si, si
    push cx
    mov cx, 512
.sum_byte:
    lodsb
    movzx edx, al
    add ebx, edx
    loop .sum_byte
    pop cx
    mov ax, ds
    add ax, 0x20
    loop .sum_sector
    pop ds
    mov eax, ebx
    call hex32
.dap:
    mov si, [case_ptr]
    test byte [si + C_FLAGS], F_DUMP_DAP
    jz .eol
    mov si, s_dap
    call puts
    mov di, DAP_BUF
    mov cx, 16
    call hexdump
.eol:
    mov al, 10
    call putc
    ret

; Fills CX sectors at DS:DI with the write pattern of tag AL.
fill_pattern:
    mov bl, al
    xor dx, dx                      ; sector index
.sector:
    push cx
    mov si, pattern_head
    mov cx, 8
    rep movsb
    mov [di], bl
    mov [di + 1], dl
    add di, 2
    mov cx, 10
.byte:
    mov ax, cx
    imul ax, ax, 3
    add al, bl
    stosb
    inc cx
    cmp cx, 512
    jb .byte
    inc dx
    pop cx
    loop .sector
    ret

; Prints CX bytes at ES:DI as hex (DI advances).
hexdump:
    jcxz .done
.byte:
    mov al, [es:di]
    call hex8
    inc di
    loop .byte
.done:
    ret

; Prints EAX as 8 hex digits, a byte as "--" where the low nibble of [mask] has its bit set
; (bit n = byte n).
hex32_masked:
    push cx
    mov ebx, eax
    mov dl, [mask]
    mov dh, 8                       ; the bit of byte 3, printed first
    mov cx, 4
.byte:
    rol ebx, 8
    test dl, dh
    jz .show
    mov al, '-'
    call putc
    call putc
    jmp .next
.show:
    mov al, bl
    call hex8
.next:
    shr dh, 1
    loop .byte
    pop cx
    ret

hex32:
    push eax
    shr eax, 16
    call hex16
    pop eax
hex16:
    push ax
    mov al, ah
    call hex8
    pop ax
hex8:
    push ax
    shr al, 4
    call .nibble
    pop ax
    push ax
    and al, 0x0f
    call .nibble
    pop ax
    ret
.nibble:
    add al, '0'
    cmp al, '9'
    jbe putc
    add al, 'A' - '9' - 1
putc:
    out DEBUG_PORT, al
    ret

puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

int10: int 0x10
    ret
int11: int 0x11
    ret
int12: int 0x12
    ret
int13: int 0x13
    ret
int15: int 0x15
    ret
int1a: int 0x1a
    ret

stub_for:   times 0x10 dw 0
            dw int10, int11, int12, int13, 0, int15
            times 0x1a - 0x16 dw 0
            dw int1a

banner:       db "PROBE int13probe v1", 10, 0
end_line:     db "END", 10, 0
pattern_head: db "IOEMUPRB"
reg_names:    db " EAX=", 0, " EBX=", 0, " ECX=", 0, " EDX=", 0, " ESI=", 0, " EDI=", 0, " EBP=", 0
s_sp:   db " dSP=", 0
s_ds:   db " DS=", 0
s_es:   db " ES=", 0
s_fl:   db " FL=", 0
s_474:  db " 40:74=", 0
s_475:  db " 40:75=", 0
s_buf:  db " buf=", 0
s_dpte: db " dpte=", 0
s_sum:  db " sum=", 0
s_dap:  db " dap=", 0

alignb 4
case_ptr:   dw 0
stub:       dw 0
saved_sp:   dw 0
cur_int:    db 0
            db 0
in_flags:   dw 0
in_es:      dw 0
in_ds:      dw 0
            dw 0
iteration:  dd 0
chain_ebx:  dd 0
mask:       dd 0
total:      dd 0, 0
in_eax:     dd 0
in_ebx:     dd 0
in_ecx:     dd 0
in_edx:     dd 0
in_esi:     dd 0
in_edi:     dd 0
out_eax:    dd 0
out_ebx:    dd 0
out_ecx:    dd 0
out_edx:    dd 0
out_esi:    dd 0
out_edi:    dd 0
out_ebp:    dd 0
out_ds:     dw 0
out_es:     dw 0
out_flags:  dw 0
out_sp:     dw 0

; ---------------------------------------------------------------------------------------------
; Case records: fixed part, then the zero-terminated name. A word FFFFh ends the table.
C_INT       equ 0
C_FLAGS     equ 1
C_EAX       equ 2
C_EBX       equ 6
C_ECX       equ 10
C_EDX       equ 14
C_ESI       equ 18
C_EDI       equ 22
C_ES        equ 26
C_DS        equ 28
C_SETUP     equ 30
C_SETUPLEN  equ 32
C_SETUPDST  equ 34
C_DKIND     equ 36
C_DSEG      equ 37
C_DOFF      equ 39
C_DLEN      equ 41
C_MASK      equ 43
C_NAME      equ 47

; CASE name, int, flags, eax, ebx, ecx, edx, esi, edi, es, ds,
;      setup, setuplen, setupdst, dumpkind, dumpseg, dumpoff, dumplen, mask
%macro CASE 19
    db %2, %3
    dd %4, %5, %6, %7, %8, %9
    dw %10, %11, %12, %13, %14
    db %15
    dw %16, %17, %18
    dd %19
    db %1, 0
%endmacro

; Shorthands for the common shapes.
; Plain INT 13h call on a drive: name, ax, bx, cx, dx
%macro D13 5
    CASE %1, 0x13, 0, %2, %3, %4, %5, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
%endmacro
; CHS read into 1000:0000, then the byte sum of N sectors: name, ax, cx, dx, sectors summed
%macro CHSREAD 5
    CASE %1, 0x13, F_PREFILL, %2, 0, %3, %4, 0, 0, RBUF_SEG, 0, 0, 0, 0, D_SUM, RBUF_SEG, 0, %5, 0
%endmacro
; DAP call (AH=42h-47h): name, ax, dx, packet label, packet length, flags, sectors summed
%macro DAPCALL 7
    CASE %1, 0x13, F_DUMP_DAP | F_PREFILL | %6, %2, 0, 0, %3, DAP_BUF, 0, 0, 0, %4, %5, DAP_BUF, D_SUM, RBUF_SEG, 0, %7, 0
%endmacro
; AH=48h with a buffer of the given size word: name, dx, size label, dump length, flags
%macro EDD 5
    CASE %1, 0x13, F_PREFILL | %5, 0x4800, 0, 0, %2, EDD_BUF, 0, 0, 0, %3, 2, EDD_BUF, D_EDD, 0, EDD_BUF, %4, 0
%endmacro

; Packets: size, reserved, count, offset, segment, LBA (qword) [, flat 64-bit buffer]
dap_lba0_1:     db 0x10, 0
                dw 1, 0, RBUF_SEG
                dq 0
dap_lba0_0:     db 0x10, 0
                dw 0, 0, RBUF_SEG
                dq 0
dap_lba0_7f:    db 0x10, 0
                dw 0x7f, 0, RBUF_SEG
                dq 0
dap_lba0_80:    db 0x10, 0
                dw 0x80, 0, RBUF_SEG
                dq 0
dap_lba0_81:    db 0x10, 0
                dw 0x81, 0, RBUF_SEG
                dq 0
dap_lba0_ffff:  db 0x10, 0
                dw 0xffff, 0, RBUF_SEG
                dq 0
dap_last_1:     db 0x10, 0          ; LBA = total - 1 (F_LBA_TOTAL)
                dw 1, 0, RBUF_SEG
                dq -1
dap_total_1:    db 0x10, 0          ; LBA = total
                dw 1, 0, RBUF_SEG
                dq 0
dap_last_2:     db 0x10, 0          ; LBA = total - 1, two sectors: runs past the end
                dw 2, 0, RBUF_SEG
                dq -1
dap_high:       db 0x10, 0          ; LBA 2^32: beyond every image here
                dw 1, 0, RBUF_SEG
                dq 0x100000000
dap_huge:       db 0x10, 0          ; LBA 2^63
                dw 1, 0, RBUF_SEG
                dq 0x8000000000000000
dap_flat64:     db 0x18, 0          ; EDD-3 64-bit flat buffer form
                dw 1, 0xffff, 0xffff
                dq 0
                dq FLAT_BUF
dap_flat_high:  db 0x18, 0          ; 64-bit flat buffer above guest RAM (hostile)
                dw 1, 0xffff, 0xffff
                dq 0
                dq 0xfffffffffff00000
dap_size0:      db 0x00, 0          ; packet size 0
                dw 1, 0, RBUF_SEG
                dq 0
dap_w40_4:      db 0x10, 0
                dw 4, WBUF43, 0
                dq 40
dap_w44_1:      db 0x10, 0
                dw 1, WBUF43, 0
                dq 44
dap_wlast_1:    db 0x10, 0          ; LBA = total - 1 (F_LBA_TOTAL)
                dw 1, WBUFLAST, 0
                dq -1
dap_r40_5:      db 0x10, 0
                dw 5, 0, RBUF_SEG
                dq 40
size_19:        dw 0x19
size_1a:        dw 0x1a
size_1e:        dw 0x1e
size_42:        dw 0x42
size_4a:        dw 0x4a
size_50:        dw 0x50

cases:
    ; INT 13h, first disk. EDD 1Eh first: it records the total sector count for F_LBA_TOTAL.
    EDD  "13/48 size=1E", 0x0080, size_1e, 0x30, F_SAVE_TOTAL
    D13  "13/00 reset", 0x0000, 0, 0, 0x0080
    D13  "13/01 status after reset", 0x0100, 0, 0, 0x0080
    CHSREAD "13/02 C0 H0 S1 n=1", 0x0201, 0x0001, 0x0080, 1
    CHSREAD "13/02 C0 H0 S2 n=4", 0x0204, 0x0002, 0x0080, 4
    CHSREAD "13/02 n=0", 0x0200, 0x0001, 0x0080, 1
    CHSREAD "13/02 n=7F", 0x027f, 0x0001, 0x0080, 0x7f
    CHSREAD "13/02 n=80", 0x0280, 0x0001, 0x0080, 0x80
    CHSREAD "13/02 n=81", 0x0281, 0x0001, 0x0080, 1
    CHSREAD "13/02 n=FF", 0x02ff, 0x0001, 0x0080, 1
    D13  "13/01 status after n=FF", 0x0100, 0, 0, 0x0080
    D13  "13/01 status again", 0x0100, 0, 0, 0x0080
    CHSREAD "13/02 sector 0", 0x0201, 0x0000, 0x0080, 1
    CHSREAD "13/02 C0 H0 S32", 0x0201, 0x0020, 0x0080, 1
    CHSREAD "13/02 C0 H0 S33", 0x0201, 0x0021, 0x0080, 1
    CHSREAD "13/02 C0 H0 S63", 0x0201, 0x003f, 0x0080, 1
    CHSREAD "13/02 C0 H15 S1", 0x0201, 0x0001, 0x0f80, 1
    CHSREAD "13/02 C0 H16 S1", 0x0201, 0x0001, 0x1080, 1
    CHSREAD "13/02 C0 H254 S1", 0x0201, 0x0001, 0xfe80, 1
    CHSREAD "13/02 C0 H255 S1", 0x0201, 0x0001, 0xff80, 1
    CHSREAD "13/02 C128 H0 S1", 0x0201, 0x8001, 0x0080, 1
    CHSREAD "13/02 C129 H0 S1", 0x0201, 0x8101, 0x0080, 1
    CHSREAD "13/02 C255 H0 S1", 0x0201, 0xff01, 0x0080, 1
    CHSREAD "13/02 C256 H0 S1", 0x0201, 0x0041, 0x0080, 1
    CHSREAD "13/02 C1023 H0 S1", 0x0201, 0xffc1, 0x0080, 1
    CHSREAD "13/02 C0 H0 S63 n=2 crosses the track", 0x0202, 0x003f, 0x0080, 2
    CASE "13/03 C0 H0 S30 n=2 write", 0x13, 0, 0x0302, WBUF03, 0x001e, 0x0080, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CHSREAD "13/02 C0 H0 S30 n=2 read back", 0x0202, 0x001e, 0x0080, 2
    CASE "13/03 n=0", 0x13, 0, 0x0300, WBUF03, 0x001e, 0x0080, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "13/03 sector 0", 0x13, 0, 0x0301, WBUF03, 0x0000, 0x0080, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    D13  "13/04 verify C0 H0 S1 n=1", 0x0401, 0, 0x0001, 0x0080
    D13  "13/04 verify sector 0", 0x0401, 0, 0x0000, 0x0080
    D13  "13/04 verify C1023 H0 S1", 0x0401, 0, 0xffc1, 0x0080
    D13  "13/05 format C5 H0", 0x0501, 0, 0x0500, 0x0080
    CASE "13/08 params", 0x13, 0, 0x0800, 0x77, 0, 0x0080, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    D13  "13/09 init pair", 0x0900, 0, 0, 0x0080
    D13  "13/0A read long", 0x0a01, 0, 0x0001, 0x0080
    D13  "13/0C seek C0 H0", 0x0c00, 0, 0x0001, 0x0080
    D13  "13/0C seek C1023 H0", 0x0c00, 0, 0xffc1, 0x0080
    D13  "13/0D alternate reset", 0x0d00, 0, 0, 0x0080
    D13  "13/10 ready", 0x1000, 0, 0, 0x0080
    D13  "13/11 recalibrate", 0x1100, 0, 0, 0x0080
    D13  "13/14 diagnostic", 0x1400, 0, 0, 0x0080
    D13  "13/15 type", 0x1500, 0, 0, 0x0080
    D13  "13/16 change line", 0x1600, 0, 0, 0x0080
    D13  "13/41 BX=55AA", 0x4100, 0x55aa, 0, 0x0080
    D13  "13/41 BX=0000", 0x4100, 0x0000, 0, 0x0080
    DAPCALL "13/42 LBA 0 n=1", 0x4200, 0x0080, dap_lba0_1, 16, 0, 1
    DAPCALL "13/42 LBA 0 n=0", 0x4200, 0x0080, dap_lba0_0, 16, 0, 1
    DAPCALL "13/42 LBA 0 n=7F", 0x4200, 0x0080, dap_lba0_7f, 16, 0, 0x7f
    DAPCALL "13/42 LBA 0 n=80", 0x4200, 0x0080, dap_lba0_80, 16, 0, 0x80
    DAPCALL "13/42 LBA 0 n=81", 0x4200, 0x0080, dap_lba0_81, 16, 0, 1
    DAPCALL "13/42 LBA 0 n=FFFF", 0x4200, 0x0080, dap_lba0_ffff, 16, 0, 1
    DAPCALL "13/42 last LBA n=1", 0x4200, 0x0080, dap_last_1, 16, F_LBA_TOTAL, 1
    DAPCALL "13/42 LBA total n=1", 0x4200, 0x0080, dap_total_1, 16, F_LBA_TOTAL, 1
    DAPCALL "13/42 last LBA n=2", 0x4200, 0x0080, dap_last_2, 16, F_LBA_TOTAL, 2
    DAPCALL "13/42 LBA 2^32", 0x4200, 0x0080, dap_high, 16, 0, 1
    DAPCALL "13/42 LBA 2^63", 0x4200, 0x0080, dap_huge, 16, 0, 1
    DAPCALL "13/42 packet size 0", 0x4200, 0x0080, dap_size0, 16, 0, 1
    CASE "13/42 flat 64-bit buffer", 0x13, F_DUMP_DAP | F_PREFILL, 0x4200, 0, 0, 0x0080, DAP_BUF, 0, 0, 0, dap_flat64, 24, DAP_BUF, D_SUM, FLAT_BUF >> 4, 0, 1, 0
    CASE "13/42 flat buffer above RAM", 0x13, F_DUMP_DAP, 0x4200, 0, 0, 0x0080, DAP_BUF, 0, 0, 0, dap_flat_high, 24, DAP_BUF, D_NONE, 0, 0, 0, 0
    DAPCALL "13/43 LBA 40 n=4 write", 0x4300, 0x0080, dap_w40_4, 16, 0, 1
    DAPCALL "13/43 AL=02 LBA 44 n=1 write+verify", 0x4302, 0x0080, dap_w44_1, 16, 0, 1
    DAPCALL "13/43 last LBA n=1 write", 0x4300, 0x0080, dap_wlast_1, 16, F_LBA_TOTAL, 1
    DAPCALL "13/42 LBA 40 n=5 read back", 0x4200, 0x0080, dap_r40_5, 16, 0, 5
    DAPCALL "13/42 last LBA read back", 0x4200, 0x0080, dap_last_1, 16, F_LBA_TOTAL, 1
    DAPCALL "13/44 verify LBA 0", 0x4400, 0x0080, dap_lba0_1, 16, 0, 1
    DAPCALL "13/44 verify LBA total", 0x4400, 0x0080, dap_total_1, 16, F_LBA_TOTAL, 1
    DAPCALL "13/47 seek LBA 0", 0x4700, 0x0080, dap_lba0_1, 16, 0, 1
    DAPCALL "13/47 seek LBA total", 0x4700, 0x0080, dap_total_1, 16, F_LBA_TOTAL, 1
    EDD  "13/48 size=19", 0x0080, size_19, 0x20, 0
    EDD  "13/48 size=1A", 0x0080, size_1a, 0x20, 0
    EDD  "13/48 size=1E again", 0x0080, size_1e, 0x30, 0
    EDD  "13/48 size=42", 0x0080, size_42, 0x50, 0
    EDD  "13/48 size=4A", 0x0080, size_4a, 0x50, 0
    EDD  "13/48 size=50", 0x0080, size_50, 0x58, 0
    D13  "13/45 lock", 0x4500, 0, 0, 0x0080
    D13  "13/46 eject", 0x4600, 0, 0, 0x0080
    D13  "13/49 media change", 0x4900, 0, 0, 0x0080
    D13  "13/4E AL=01", 0x4e01, 0, 0, 0x0080
    D13  "13/4E AL=02", 0x4e02, 0, 0, 0x0080
    D13  "13/4E AL=06", 0x4e06, 0, 0, 0x0080
    CASE "13/4B01 El Torito status", 0x13, F_PREFILL, 0x4b01, 0, 0, 0x0080, EDD_BUF, 0, 0, 0, 0, 0, 0, D_HEX, 0, EDD_BUF, 0x14, 0
    D13  "13/20 unsupported", 0x2000, 0, 0, 0x0080
    D13  "13/50 unsupported", 0x5000, 0, 0, 0x0080
    D13  "13/FF unsupported", 0xff00, 0, 0, 0x0080
    D13  "13/01 status after unsupported", 0x0100, 0, 0, 0x0080
    ; absent drives
    D13  "13/00 DL=81", 0x0000, 0, 0, 0x0081
    CHSREAD "13/02 DL=81", 0x0201, 0x0001, 0x0081, 1
    CASE "13/08 DL=81", 0x13, 0, 0x0800, 0x77, 0, 0x0081, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    D13  "13/15 DL=81", 0x1500, 0, 0, 0x0081
    D13  "13/41 DL=81", 0x4100, 0x55aa, 0, 0x0081
    DAPCALL "13/42 DL=81", 0x4200, 0x0081, dap_lba0_1, 16, 0, 1
    EDD  "13/48 DL=81", 0x0081, size_1e, 0x30, 0
    CASE "13/08 DL=9F", 0x13, 0, 0x0800, 0x77, 0, 0x009f, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    D13  "13/41 DL=9F", 0x4100, 0x55aa, 0, 0x009f
    D13  "13/01 DL=80 after absent drives", 0x0100, 0, 0, 0x0080
    ; the services loaders need
    CASE "12 memory size", 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "11 equipment", 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/E820", 0x15, F_CHAIN_EBX | F_PREFILL, 0xe820, 0, 20, 0x534d4150, 0, E820_BUF, 0, 0, 0, 0, 0, D_HEX, 0, E820_BUF, 24, 0
    CASE "15/E820 EDX bad", 0x15, F_PREFILL, 0xe820, 0, 20, 0x12345678, 0, E820_BUF, 0, 0, 0, 0, 0, D_HEX, 0, E820_BUF, 24, 0
    CASE "15/E801", 0x15, F_STC, 0xe801, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/88", 0x15, F_STC, 0x8800, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/2402 query A20", 0x15, 0, 0x2402, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/2403 A20 support", 0x15, 0, 0x2403, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/2400 disable A20", 0x15, 0, 0x2400, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/2402 after disable", 0x15, 0, 0x2402, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/2401 enable A20", 0x15, 0, 0x2401, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/2402 after enable", 0x15, 0, 0x2402, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/2404 unsupported", 0x15, 0, 0x2404, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "15/C0 configuration", 0x15, 0, 0xc000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_HEX_ESBX, 0, 0, 10, 0
    CASE "15/99 unsupported", 0x15, 0, 0x9900, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "1A/00 ticks", 0x1a, 0, 0x0000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, M_CL | M_CH | M_DL | M_DH
    CASE "1A/02 RTC time", 0x1a, 0, 0x0200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, M_AL | M_CL | M_CH | M_DH
    CASE "1A/04 RTC date", 0x1a, 0, 0x0400, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, M_CL | M_DL | M_DH
    CASE "10/0F video mode", 0x10, 0, 0x0f00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    CASE "10/0E teletype", 0x10, 0, 0x0e50, 0x0007, 0, 0, 0, 0, 0, 0, 0, 0, 0, D_NONE, 0, 0, 0, 0
    dw 0xffff
stage2_end:

STAGE2_SECTORS equ (stage2_end - stage2 + 511) / 512
    times (28 * 512) - (stage2_end - stage2) db 0   ; fails to assemble if stage 2 reaches LBA 29
