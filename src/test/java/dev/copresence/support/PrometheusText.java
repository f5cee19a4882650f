package dev.copresence.support;

import java.util.stream.DoubleStream;

/** Reads a meter out of a {@code /q/metrics} page (Prometheus text). */
public final class PrometheusText {
    private PrometheusText() {
    }

    /** The values of a meter's series, in page order: lines of its name alone or with labels. */
    public static DoubleStream values(String page, String name) {
        return page.lines().filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
    }

    /** A meter's value summed over its series (0 when the page has none). */
    public static double sum(String page, String name) {
        return values(page, name).sum();
    }
}
