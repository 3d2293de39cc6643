; Journal boot sector (issue 14, crash-consistency simulator): a guest that commits transactions
; the way ext4's jbd2 does — data sectors, a flush, a commit sector naming them with a checksum, a
; flush — so a crash-state checker can ask "is every committed transaction complete?".
; Layout (tools/…/crashcheck/JournalFormat.java): transaction t uses LBA 2048 + 9t .. 2048 + 9t + 8;
; eight data sectors whose dword i (0-1023) is (t << 16) + i, then the commit sector:
;   "JRNLCMT1", u32 t, u32 8, 8 × u32 LBA, u32 sum32 of the data, zeros, u32 sum32 of bytes 0-507.
; Transaction t goes (t mod 4) 0: through the BIOS, INT 13h AH=43h (whose flush is the firmware's
; own: with firmware-writes=sync AH=43h returns after the drive's flush); 1: to the IDE controller
; directly, WRITE SECTORS (30h) by PIO with nIEN set, then FLUSH CACHE (E7h); 2, 3: WRITE DMA (CAh)
; through the PIIX bus-master engine (this guest sets BAR4 and the PRD table), then FLUSH CACHE.
; The boot sector loads its second sector (the DMA path) with INT 13h AH=42h first.
; Every wait is bounded. Console (port 0xE9): "JOURNAL nn" when nn transactions are committed, or
; "FAIL x" at the first error (x: l loading sector 2, i INT 13h, b busy, d no DRQ, m DMA still
; active, w write, f flush); then
; isa-debug-exit with 10h (done) or 11h (failed).
bits 16
org 0x7c00

TXNS     equ 28
JSTART   equ 2048
BLOCKS   equ 8
DATA     equ 0x8000                 ; eight data sectors
COMMIT   equ 0x9000                 ; the commit sector
ATA_DATA equ 0x1f0
ATA_STATUS equ 0x1f7                ; read: status, write: command
ATA_CTL  equ 0x3f6
ST_BSY   equ 0x80
ST_DF    equ 0x20
ST_DRQ   equ 0x08
ST_ERR   equ 0x01
CMD_WRITE_SECTORS equ 0x30
CMD_FLUSH_CACHE   equ 0xe7
CMD_WRITE_DMA     equ 0xca
PRD      equ 0x9400                 ; the PRD table (one entry)
BM_BASE  equ 0xc000                 ; where this guest puts the bus-master registers

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
    ; the second sector (the DMA path and the task-file set-up) to 0x7e00
    mov word [dap_count], 1
    mov word [dap_buf], 0x7e00
    mov byte [dap_lba], 1
    mov si, dap
    mov ah, 0x42
    int 0x13
    mov byte [what], 'l'
    jc fail
    mov dx, ATA_CTL
    mov al, 0x02                    ; nIEN: the PIO path polls, the drive raises no IRQ
    out dx, al
    xor ebp, ebp                    ; EBP = transaction
.txn:
    ; data: dword i = (t << 16) + i; EBX = their sum32
    mov di, DATA
    mov eax, ebp
    shl eax, 16
    xor ebx, ebx
    mov cx, BLOCKS * 128
.fill:
    stosd
    add ebx, eax
    inc eax
    loop .fill
    ; the first LBA of this transaction: EAX = JSTART + 9t
    mov eax, ebp
    imul eax, eax, BLOCKS + 1
    add eax, JSTART
    mov [lba], eax
    mov si, DATA
    mov cx, BLOCKS
    push ebx                        ; the PIO path uses BL
    call write_flush
    pop ebx
    jc fail
    ; commit sector
    mov di, COMMIT
    xor eax, eax
    mov cx, 128
    rep stosd
    mov dword [COMMIT], 'JRNL'
    mov dword [COMMIT + 4], 'CMT1'
    mov [COMMIT + 8], ebp
    mov dword [COMMIT + 12], BLOCKS
    mov eax, [lba]
    mov di, COMMIT + 16
    mov cx, BLOCKS
.lbas:
    stosd
    inc eax
    loop .lbas
    mov [di], ebx                   ; data sum after the LBAs
    mov [lba], eax                  ; the commit's own LBA follows the data
    xor eax, eax
    mov si, COMMIT
    mov cx, 127
.selfsum:
    add eax, [si]
    add si, 4
    loop .selfsum
    mov [COMMIT + 508], eax
    mov si, COMMIT
    mov cx, 1
    call write_flush
    jc fail
    inc ebp
    cmp ebp, TXNS
    jb .txn

    mov si, msg_done
    call puts
    mov ax, bp
    aam                             ; AH = tens, AL = units
    add ax, '00'
    xchg al, ah
    out 0xe9, al
    mov al, ah
    out 0xe9, al
    mov al, 0x10
    out 0xf4, al
    jmp halt

; Writes CX sectors from DS:SI to LBA [lba] and makes them durable: INT 13h AH=43h for an even
; transaction, IDE PIO + FLUSH CACHE for an odd one. CF=1 on failure ([what] says where).
write_flush:
    test bp, 2
    jnz dma_write_flush
    test bp, 1
    jnz pio_write_flush
    mov [dap_count], cx
    mov [dap_buf], si
    mov eax, [lba]
    mov [dap_lba], eax
    mov si, dap
    mov ax, 0x4300
    mov dl, [drive]
    int 0x13
    mov byte [what], 'i'
    ret

pio_write_flush:
    mov byte [what], 'b'
    xor bx, bx
    call wait_status
    jc wait_status.out
    mov al, CMD_WRITE_SECTORS
    call task_file
.sector:
    mov byte [what], 'd'
    mov bl, ST_DRQ
    call wait_status
    jc wait_status.out
    push cx
    mov cx, 256
    mov dx, ATA_DATA
    rep outsw
    pop cx
    loop .sector
    mov byte [what], 'w'
    xor bx, bx
    call wait_status
    jc wait_status.out
    mov byte [what], 'f'
    mov al, CMD_FLUSH_CACHE
    call command
    xor bx, bx
    ; fall through: the flush is done when BSY clears without ERR

; Polls status until BSY is clear and the bits in BL are set; CF=1 on ERR/DF or after about
; 2^24 polls.
wait_status:
    mov dword [polls], 0x1000000
    mov dx, ATA_STATUS
.poll:
    in al, dx
    test al, ST_BSY
    jnz .next
    test al, ST_ERR | ST_DF
    jnz .bad
    and al, bl
    cmp al, bl
    je .out
.next:
    dec dword [polls]
    jnz .poll
.bad:
    stc
.out:
    ret

command:
    mov dx, ATA_STATUS
    out dx, al
    ret

fail:
    mov si, msg_fail
    call puts
    mov al, [what]
    out 0xe9, al
    mov al, 0x11
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

drive:  db 0
lba:    dd 0
polls:  dd 0
what:   db 0
dap:    db 0x10, 0
dap_count: dw 0
dap_buf:   dw 0, 0
dap_lba:   dd 0, 0
msg_done:  db "JOURNAL ", 0
msg_fail:  db "FAIL ", 0
    times 510 - ($ - $$) db 0
    dw 0xaa55

; ---- second sector, loaded to 0x7e00 ----

; Programs count CL and LBA [lba] and issues command AL.
task_file:
    push ax
    mov dx, 0x1f2
    mov al, cl
    out dx, al                      ; sector count
    mov eax, [lba]
    inc dx
    out dx, al                      ; LBA 7:0
    shr eax, 8
    inc dx
    out dx, al                      ; LBA 15:8
    shr eax, 8
    inc dx
    out dx, al                      ; LBA 23:16
    shr eax, 8
    or al, 0xe0                     ; LBA mode, master, LBA 27:24 (0 here)
    inc dx
    out dx, al
    pop ax
    jmp command

; WRITE DMA (CAh) of CX sectors from DS:SI through the PIIX bus-master engine, then FLUSH CACHE.
; BAR4 of 00:01.1 (devfn 09h) set to BM_BASE (the BIOS assigns no BAR, as a driver on a bare
; machine would find it); the PRD table at PRD; nIEN is set, so the
; end of the transfer is BM status Active clearing (Interrupt follows INTRQ, which nIEN masks).
dma_write_flush:
    mov eax, 0x80000000 | (0x09 << 8) | 0x20
    call pci_read
    mov eax, BM_BASE | 1
    out dx, eax                     ; BAR4: I/O space at BM_BASE
    in eax, dx
    and ax, 0xfffc
    mov [bm_base], ax
    mov eax, 0x80000000 | (0x09 << 8) | 0x04
    call pci_read
    or al, 0x05                     ; I/O space + bus master
    out dx, al
    movzx eax, si                   ; DS = 0: the linear address
    mov [PRD], eax
    mov ax, cx
    shl ax, 9
    mov [PRD + 4], ax
    mov word [PRD + 6], 0x8000      ; end of table
    mov dx, [bm_base]
    xor al, al
    out dx, al                      ; BM command: stopped
    add dx, 2
    mov al, 0x06
    out dx, al                      ; BM status: clear Interrupt and Error
    add dx, 2
    mov eax, PRD
    out dx, eax                     ; PRD table address
    mov byte [what], 'b'
    xor bx, bx
    call wait_status
    jc .out
    mov al, CMD_WRITE_DMA
    call task_file
    mov dx, [bm_base]
    mov al, 0x01                    ; start, memory to device
    out dx, al
    mov byte [what], 'm'
    mov dword [polls], 0x1000000
    add dx, 2
.active:
    in al, dx
    test al, 0x01
    jz .done
    dec dword [polls]
    jnz .active
    stc
    ret
.done:
    test al, 0x02                   ; Error
    jnz .bad
    mov dx, [bm_base]
    xor al, al
    out dx, al                      ; stop the engine
    mov byte [what], 'w'
    xor bx, bx
    call wait_status
    jc .out
    mov byte [what], 'f'
    mov al, CMD_FLUSH_CACHE
    call command
    jmp wait_status
.bad:
    stc
.out:
    ret

; Reads PCI config dword EAX (CF8h form) into EAX; DX is left at CFCh.
pci_read:
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    ret

bm_base: dw 0
    times 1024 - ($ - $$) db 0
