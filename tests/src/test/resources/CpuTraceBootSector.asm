; The boot sector CpuTraceFormatTest runs under QEMU and ioemu with the same -d items: real-mode
; code (string, loop, ALU, stack, segment and far forms), an undefined opcode (0F 04) whose #UD a
; handler of its own skips, a switch to 32-bit protected mode, some
; 32-bit addressing forms, then INT3 with no IDT: #GP, #DF and a triple fault, which -no-reboot
; turns into the end of the run. Interrupts stay off, so both logs hold the same blocks.
bits 16
org 0x7c00
start:
  cli
  lgdt [gdtr]
  jmp 0:real                 ; ends the first block (its dump shows what each BIOS left behind)
real:
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [6*4], ud_handler
  mov word [6*4+2], 0
  db 0x0f, 0x04              ; undefined on both CPUs: #UD through the IVT, -d unimp names the bytes
  cld
  mov si, msg
  mov di, 0x600
  mov cx, 1                  ; one iteration: QEMU logs further ones as blocks of their own
  rep movsb
  mov cx, 3
.sum:
  lodsb
  add bl, al
  adc bh, 0
  loop .sum
  push bx
  pushf
  pop dx
  pop bx
  mov bp, sp
  mov word [bp-2], 0x1234
  mov ax, [bp-2]
  shl ax, 4
  sar ax, 1
  and ax, 0x0ff0
  or al, 0x81
  xchg ax, dx
  inc dx
  dec bx
  neg bx
  not cx
  test ax, 0x8000
  jz .skip
  sub ax, 3
.skip:
  cmp ax, 0x1234
  jne .next
  nop
.next:
  call near sub16
  movzx ecx, al
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 8:pm
ud_handler:
  mov bp, sp
  add word [bp], 2           ; return past the two opcode bytes
  iret
sub16:
  mov di, 0x700
  mov al, 0x5a
  stosb
  ret
bits 32
pm:
  mov ax, 16
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x7000
  mov ebx, 0x12345678
  lea ecx, [ebx+esi*4+8]
  mov [0x800], ecx
  mov edx, [0x800]
  add edx, 0x100
  imul edx, edx, 3
  push ecx
  pop edi
  bswap edi
  movsx eax, byte [msg]
  int3
  hlt
msg: db 1,2,3,4
align 8
gdt: dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
gdtr: dw 23
  dd gdt
times 510-($-$$) db 0
dw 0xaa55
