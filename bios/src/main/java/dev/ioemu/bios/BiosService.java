package dev.ioemu.bios;

/** One BIOS interrupt service, run on the vCPU thread when the guest reaches its ROM stub's trap. */
@FunctionalInterface
public interface BiosService {
    /** Performs the call on {@code call}'s registers and memory; never throws for guest input. */
    void serve(BiosCall call);
}
