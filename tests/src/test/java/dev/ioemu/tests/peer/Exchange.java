package dev.ioemu.tests.peer;

import java.util.List;

/**
 * What one peer answered to one step: the IRQ lines received before the (last) reply, the reply
 * line, and how many times a polled request was sent.
 */
public record Exchange(Step step, List<String> irqLines, String reply, int tries) {
}
