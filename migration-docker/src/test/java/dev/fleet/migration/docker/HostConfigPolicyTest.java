package dev.fleet.migration.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HostConfigPolicyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What `docker inspect` shows for an ordinary `docker run --network host -v data:/data --restart always`
     * on a cgroup v1 host (where the engine's default cgroup namespace mode is "host").
     */
    private static final String ORDINARY = """
            {"Binds":["web-data:/data"],"NetworkMode":"host","RestartPolicy":{"Name":"always","MaximumRetryCount":0},
             "PortBindings":{},"CapAdd":null,"CapDrop":null,"Privileged":false,"PidMode":"","IpcMode":"private",
             "UTSMode":"","UsernsMode":"","CgroupnsMode":"host","SecurityOpt":null,"Devices":[],
             "Mounts":[{"Type":"volume","Source":"cache","Target":"/cache"},{"Type":"tmpfs","Target":"/run"}],
             "MaskedPaths":["/proc/kcore","/proc/keys"],"ReadonlyPaths":["/proc/sys"]}""";

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void anOrdinaryContainerPasses() throws Exception {
        assertThat(HostConfigPolicy.problems("web", json(ORDINARY))).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "{\"Privileged\":true}                                   | privileged mode",
        "{\"CapAdd\":[\"NET_ADMIN\"]}                            | added capabilities [\"NET_ADMIN\"]",
        "{\"Devices\":[{\"PathOnHost\":\"/dev/sda\"}]}           | host devices",
        "{\"DeviceRequests\":[{\"Count\":-1}]}                   | device requests",
        "{\"VolumesFrom\":[\"other\"]}                           | volumes-from",
        "{\"PidMode\":\"host\"}                                  | PidMode 'host'",
        "{\"IpcMode\":\"container:db\"}                          | IpcMode 'container:db'",
        "{\"UsernsMode\":\"host\"}                               | UsernsMode 'host'",
        "{\"NetworkMode\":\"container:db\"}                      | another container's network",
        "{\"CgroupParent\":\"/system.slice\"}                    | cgroup parent",
        "{\"SecurityOpt\":[\"apparmor=unconfined\"]}             | security option 'apparmor=unconfined'",
        "{\"SecurityOpt\":[\"label:disable\"]}                   | security option 'label:disable'",
        "{\"Binds\":[\"/var/run/docker.sock:/var/run/docker.sock\"]} | host bind mount '/var/run/docker.sock",
        "{\"Binds\":[\"/:/host:ro\"]}                            | host bind mount '/:/host:ro'",
        "{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\",\"Target\":\"/x\"}]} | a mount of type 'bind' onto /x",
        "{\"Mounts\":[{\"Type\":\"npipe\",\"Target\":\"/y\"}]}   | a mount of type 'npipe'"})
    void refusesWhatAsksForTheHost(String hostConfig, String expected) throws Exception {
        assertThat(HostConfigPolicy.problems("web", json(hostConfig)))
                .singleElement().asString().startsWith("container 'web': ").contains(expected);
    }

    @Test
    void thePreflightPartLeavesMountsToTheBindMountCheck() throws Exception {
        JsonNode hc = json("{\"Privileged\":true,\"Binds\":[\"/:/host\"]}");
        assertThat(HostConfigPolicy.privileges("web", hc)).singleElement().asString().contains("privileged");
        assertThat(HostConfigPolicy.mounts("web", hc)).singleElement().asString().contains("host bind mount");
    }

    @Test
    void theEngineDecidesMaskedAndReadonlyPaths() throws Exception {
        JsonNode created = HostConfigPolicy.forCreate(json("{\"MaskedPaths\":[],\"ReadonlyPaths\":[],\"NetworkMode\":\"host\"}"));
        assertThat(created.has("MaskedPaths")).isFalse();
        assertThat(created.has("ReadonlyPaths")).isFalse();
        assertThat(created.path("NetworkMode").asText()).isEqualTo("host");
    }
}
