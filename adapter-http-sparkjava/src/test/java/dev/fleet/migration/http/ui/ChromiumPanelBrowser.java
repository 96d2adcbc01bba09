package dev.fleet.migration.http.ui;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

/**
 * Headless Chromium through Debian's chromium and chromium-driver, driven by Selenium with
 * explicit paths, so Selenium Manager never downloads anything; a fresh profile per instance.
 */
final class ChromiumPanelBrowser implements PanelBrowser {
    private final ChromeDriverService service;
    private final WebDriver driver;
    private final Path profile;

    private ChromiumPanelBrowser(ChromeDriverService service, WebDriver driver, Path profile) {
        this.service = service;
        this.driver = driver;
        this.profile = profile;
    }

    static ChromiumPanelBrowser start(Path chromium, Path chromedriver) throws IOException {
        Path profile = Files.createTempDirectory("fleet-chromium-");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1400,900", "--user-data-dir=" + profile);
        try {
            return new ChromiumPanelBrowser(service, new ChromeDriver(service, options), profile);
        } catch (RuntimeException e) {
            service.stop();
            PanelBrowser.deleteTree(profile);
            throw e;
        }
    }

    @Override
    public void open(String url) {
        driver.get(url);
    }

    @Override
    public void reload() {
        driver.navigate().refresh();
    }

    @Override
    public boolean displayed(String id) {
        try {
            return driver.findElement(By.id(id)).isDisplayed();
        } catch (NoSuchElementException | StaleElementReferenceException e) {
            return false; // not there yet
        }
    }

    @Override
    public void type(String id, String text) {
        driver.findElement(By.id(id)).sendKeys(text);
    }

    @Override
    public void select(String id, String value) {
        new Select(driver.findElement(By.id(id))).selectByValue(value);
    }

    @Override
    public void click(String id) {
        driver.findElement(By.id(id)).click();
    }

    @Override
    public Object js(String body, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(body, args);
    }

    @Override
    public byte[] screenshot() {
        return ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            PanelBrowser.deleteTree(profile);
        }
    }
}
