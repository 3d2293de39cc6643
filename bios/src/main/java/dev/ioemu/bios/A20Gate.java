package dev.ioemu.bios;

/**
 * The A20 gate as INT 15h AX=2400h–2403h sees it (the machine's port 92h / i8042 output port).
 * Under KVM there is no gate to model (kvm.md §6.3): the machine reports it enabled.
 */
public interface A20Gate {
    boolean isEnabled();

    void setEnabled(boolean enabled);

    /** A gate that is always on and ignores requests to turn it off. */
    A20Gate ALWAYS_ENABLED = new A20Gate() {
        @Override
        public boolean isEnabled() {
            return true;
        }

        @Override
        public void setEnabled(boolean enabled) {
        }
    };

    /** A plain stored flag (tests, engines that apply the mask themselves). */
    static A20Gate stored(boolean initiallyEnabled) {
        return new A20Gate() {
            private boolean enabled = initiallyEnabled;

            @Override
            public boolean isEnabled() {
                return enabled;
            }

            @Override
            public void setEnabled(boolean on) {
                enabled = on;
            }
        };
    }
}
