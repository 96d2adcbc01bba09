package dev.fleet.migration.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotTest {
    private static final Color FLEET = new Color(0, 102, 204);
    private static final Color BASELINE = new Color(204, 51, 0);

    private static Plot plot() {
        return new Plot("Migration time against volume size", "volume size (MiB)", "seconds")
                .add(new Plot.Series("fleet", List.of(new double[] {256, 2}, new double[] {1024, 6},
                        new double[] {4096, 21}), FLEET, false))
                .add(new Plot.Series("tar over ssh", List.of(new double[] {256, 1}, new double[] {1024, 4},
                        new double[] {4096, 15}), BASELINE, true));
    }

    private static int pixelsOf(BufferedImage img, Color c) {
        int n = 0;
        for (int x = 0; x < img.getWidth(); x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                if (img.getRGB(x, y) == c.getRGB()) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void drawsEverySeriesAndWritesAReadablePng(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("out").resolve("plot.png");
        plot().write(png);
        BufferedImage back = ImageIO.read(png.toFile());
        assertThat(back.getWidth()).isEqualTo(960);
        assertThat(back.getHeight()).isEqualTo(600);
        assertThat(pixelsOf(back, FLEET)).as("the fleet line").isGreaterThan(200);
        assertThat(pixelsOf(back, BASELINE)).as("the baseline line").isGreaterThan(100);
    }

    @Test
    void theHigherPointIsDrawnHigher() {
        BufferedImage img = new Plot("t", "x", "y")
                .add(new Plot.Series("s", List.of(new double[] {0, 0}, new double[] {10, 10}), FLEET, false))
                .render();
        int leftmostY = -1;
        int rightmostY = -1;
        for (int x = 0; x < img.getWidth() && leftmostY < 0; x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                if (img.getRGB(x, y) == FLEET.getRGB()) {
                    leftmostY = y;
                    break;
                }
            }
        }
        for (int x = img.getWidth() - 1; x >= 0 && rightmostY < 0; x--) {
            for (int y = 0; y < img.getHeight(); y++) {
                if (img.getRGB(x, y) == FLEET.getRGB()) {
                    rightmostY = y;
                    break;
                }
            }
        }
        assertThat(rightmostY).isLessThan(leftmostY); // screen y grows downwards
    }

    @Test
    void ticksAreOneTwoOrFiveTimesAPowerOfTen() {
        assertThat(Plot.niceStep(4096)).isEqualTo(1000);
        assertThat(Plot.niceStep(21)).isEqualTo(5);
        assertThat(Plot.niceStep(0.9)).isEqualTo(0.2);
        assertThat(Plot.niceStep(0)).isEqualTo(1);
    }
}
