package dev.ioemu.devices.isa;

/**
 * The A20 gate: address line 20 is enabled when either source enables it, the keyboard
 * controller's output port bit 1 (A20GATE) or port 92h bit 1 (ALT_A20), as the PIIX ORs them.
 * A CPU engine listens and masks bit 20 of physical addresses while the gate is closed.
 */
public final class A20Gate {
    /** Told, on the thread that changed it, whenever the gate opens or closes. */
    @FunctionalInterface
    public interface Listener {
        void a20Changed(boolean enabled);
    }

    private boolean keyboardController;
    private boolean port92;
    private volatile Listener listener;

    /** Power-on: the keyboard controller's output port has A20 set, port 92h has it clear. */
    public A20Gate() {
        keyboardController = true;
    }

    public synchronized boolean enabled() {
        return keyboardController || port92;
    }

    public void setKeyboardController(boolean on) {
        set(on, port92Value());
    }

    public void setPort92(boolean on) {
        set(keyboardControllerValue(), on);
    }

    private synchronized boolean port92Value() {
        return port92;
    }

    private synchronized boolean keyboardControllerValue() {
        return keyboardController;
    }

    private void set(boolean kbc, boolean p92) {
        boolean before;
        boolean after;
        synchronized (this) {
            before = enabled();
            keyboardController = kbc;
            port92 = p92;
            after = enabled();
        }
        Listener l = listener;
        if (before != after && l != null) {
            l.a20Changed(after);
        }
    }

    public void setListener(Listener listener) {
        this.listener = listener;
    }
}
