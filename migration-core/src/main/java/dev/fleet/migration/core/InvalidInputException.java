package dev.fleet.migration.core;

/** A value broke a validation rule; the message names the field, the rule and the value. */
public class InvalidInputException extends MigrationException {
    private static final long serialVersionUID = 1L;
    private final String field;
    private final String rule;

    public InvalidInputException(String field, String value, String rule) {
        super(field + " " + rule + ", but was " + Names.quote(value));
        this.field = field;
        this.rule = rule;
    }

    protected InvalidInputException(String field, String rule, String message, boolean custom) {
        super(message);
        this.field = field;
        this.rule = rule;
    }

    public String field() {
        return field;
    }

    public String rule() {
        return rule;
    }

    @Override
    public Kind kind() {
        return Kind.INVALID_INPUT;
    }
}
