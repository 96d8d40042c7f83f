import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { evaluate, type InstitutionRef } from '../../../src/rules/evaluate.js';
import { parseRuleFile } from '../../../src/rules/rule.loader.js';
import type { MissingFilingRule, Rule, ThresholdRule } from '../../../src/rules/rule.schema.js';
import { attributesMatch, ruleCovers } from '../../../src/rules/rule.scope.js';
import { catalog, day, FIXTURES_DIR, filingRule, obs, quanzhou } from './rules.fixture.js';

function fixtureRules(name: string): Rule[] {
  const result = parseRuleFile(name, fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8'), catalog);
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.value;
}

const good = fixtureRules('attributes.good.yaml');
const rule = <K extends Rule['kind']>(id: string) =>
  good.find((r) => r.id === id) as Extract<Rule, { kind: K }>;
const target = rule<'threshold'>('government_leverage_target') as ThresholdRule;
const leverage = rule<'threshold'>('leverage') as ThresholdRule;

const firm = (code: string, attributes?: Record<string, unknown>): InstitutionRef => ({
  code,
  name: code,
  type: 'financing_guarantee',
  county: '丰泽区',
  ...(attributes ? { attributes } : {}),
});
const government = firm('QZ-FG-GOV', { government_backed: true });
const commercial = firm('QZ-FG-COM');
const smallMicro = firm('QZ-FG-SM', { small_micro_focused: true });

describe(attributesMatch.name, () => {
  it('needs every attribute named to have the value given; an attribute not carried is false', () => {
    expect(attributesMatch(undefined, undefined)).toBe(true);
    expect(attributesMatch({ government_backed: true }, { government_backed: true })).toBe(true);
    expect(attributesMatch({ government_backed: true }, {})).toBe(false);
    expect(attributesMatch({ government_backed: true }, undefined)).toBe(false);
    expect(attributesMatch({ government_backed: false }, undefined)).toBe(true);
    expect(attributesMatch({ government_backed: false }, { government_backed: true })).toBe(false);
    // Only `true` is true: a stray text value from before attributes were declared does not select.
    expect(attributesMatch({ government_backed: true }, { government_backed: 'true' })).toBe(false);
    expect(
      attributesMatch({ government_backed: true, small_micro_focused: true }, { government_backed: true }),
    ).toBe(false);
  });

  it('is what ruleCovers adds to the type check', () => {
    expect(ruleCovers(target, government)).toBe(true);
    expect(ruleCovers(target, commercial)).toBe(false);
    expect(ruleCovers(target, { ...government, type: 'microloan' })).toBe(false);
    expect(ruleCovers(leverage, commercial)).toBe(true);
  });
});

describe(`${evaluate.name} with a rule narrowed by where`, () => {
  const run = (institutions: InstitutionRef[], previous = [] as ReturnType<typeof evaluate>['active']) =>
    evaluate({
      rules: [target],
      catalog,
      institutions,
      observations: institutions.map((i) => obs(i.code, 'guarantee_leverage', '2024-06', 3.2)),
      previous,
      now: day(1),
    });

  it('judges the institutions with the attribute and not the others', () => {
    const { active } = run([government, commercial, smallMicro]);
    expect(active.map((a) => [a.fingerprint, a.severity])).toEqual([
      ['government_leverage_target/QZ-FG-GOV/guarantee_leverage', 'info'],
    ]);
  });

  it('resolves an alert once the institution no longer carries the attribute, with its last values', () => {
    const previous = run([government]).active;
    const { active, transitions } = run([{ ...government, attributes: {} }], previous);
    expect(active).toEqual([]);
    expect(transitions).toEqual([
      { kind: 'resolved', from: 'firing', to: 'resolved', alert: previous[0], at: day(1) },
    ]);
  });

  it('keeps it while the attribute stays, whatever else changes', () => {
    const previous = run([government]).active;
    const { active, transitions } = run([{ ...government, name: 'renamed' }], previous);
    expect(transitions).toEqual([]);
    expect(active).toHaveLength(1);
  });

  it('narrows missing-filing rules too: a firm outside the filter owes nothing under the rule', () => {
    const filings = rule<'missing_filing'>('guarantee_filing') as MissingFilingRule;
    const { active, health } = evaluate({
      rules: [filings],
      catalog,
      institutions: [government, commercial],
      observations: [],
      filings: [],
      previous: [],
      timeZone: 'Asia/Shanghai',
      now: quanzhou('2024-07-16 00:00'),
    });
    expect(health).toEqual([{ ruleId: 'guarantee_filing', ok: true }]);
    expect(new Set(active.map((a) => a.institution))).toEqual(new Set(['QZ-FG-COM']));
  });

  it('resolves a missing-filing alert whose institution gained the attribute the rule excludes', () => {
    const filings = filingRule({
      types: ['financing_guarantee'],
      where: { attributes: { government_backed: false } },
    });
    const input = {
      rules: [filings],
      catalog,
      observations: [],
      filings: [],
      timeZone: 'Asia/Shanghai',
      now: quanzhou('2024-07-16 00:00'),
    };
    const before = evaluate({ ...input, institutions: [commercial], previous: [] });
    expect(before.active).toHaveLength(3);
    const after = evaluate({
      ...input,
      institutions: [{ ...commercial, attributes: { government_backed: true } }],
      previous: before.active,
    });
    expect(after.active).toEqual([]);
    expect(after.transitions.map((t) => t.kind)).toEqual(['resolved', 'resolved', 'resolved']);
  });
});

describe(`${evaluate.name} with overrides selected by attribute`, () => {
  const severity = (institution: InstitutionRef, value: number, r: ThresholdRule = leverage) =>
    evaluate({
      rules: [r],
      catalog,
      institutions: [institution],
      observations: [obs(institution.code, 'guarantee_leverage', '2024-06', value)],
      previous: [],
      now: day(1),
    }).active[0]?.severity ?? '-';

  it('gives the institutions carrying the attribute their own levels: 15x instead of 10x', () => {
    expect([severity(commercial, 9.5), severity(commercial, 12)]).toEqual(['warning', 'critical']);
    expect([severity(smallMicro, 12), severity(smallMicro, 14), severity(smallMicro, 15.5)]).toEqual([
      '-',
      'warning',
      'critical',
    ]);
  });

  it("quotes the override's source for the institutions it selects", () => {
    const { active } = evaluate({
      rules: [leverage],
      catalog,
      institutions: [smallMicro, commercial],
      observations: [
        obs(smallMicro.code, 'guarantee_leverage', '2024-06', 16),
        obs(commercial.code, 'guarantee_leverage', '2024-06', 16),
      ],
      previous: [],
      now: day(1),
    });
    expect(active.map((a) => [a.institution, a.threshold, a.source])).toEqual([
      ['QZ-FG-COM', 10, '条例'],
      ['QZ-FG-SM', 15, '条例：主要为小微企业和农业、农村、农民服务的可提高至15倍'],
    ]);
  });

  it("ranks an institution's own override above one by attribute, and that above one by type", () => {
    const layered: ThresholdRule = {
      ...leverage,
      overrides: [
        { types: ['financing_guarantee'], levels: [{ severity: 'critical', threshold: 11 }], source: 'type' },
        ...leverage.overrides,
        { institutions: ['QZ-FG-SM'], levels: [{ severity: 'critical', threshold: 12 }], source: 'own' },
      ],
    };
    const source = (institution: InstitutionRef) =>
      evaluate({
        rules: [layered],
        catalog,
        institutions: [institution],
        observations: [obs(institution.code, 'guarantee_leverage', '2024-06', 20)],
        previous: [],
        now: day(1),
      }).active[0]?.source;
    expect(source(commercial)).toBe('type');
    expect(source(firm('QZ-FG-SM2', { small_micro_focused: true }))).toBe(
      '条例：主要为小微企业和农业、农村、农民服务的可提高至15倍',
    );
    expect(source(smallMicro)).toBe('own');
  });
});

describe(`${parseRuleFile.name}: attributes`, () => {
  it('reads where and overrides by attribute', () => {
    expect(target.where).toEqual({ attributes: { government_backed: true } });
    expect(leverage.overrides[0]?.attributes).toEqual({ small_micro_focused: true });
  });

  it('reports every attribute problem with file, path and line', () => {
    const name = 'attributes.bad.yaml';
    const result = parseRuleFile(name, fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8'), catalog);
    if (result.ok) throw new Error('expected problems');
    const known = 'known: government_backed, small_micro_focused, large_bank, first_operating_year';
    expect(formatProblems(result.problems).split('\n')).toEqual([
      `attributes.bad.yaml:8: groups[0].rules[0].where.attributes.government_backd: unknown institution attribute government_backd; ${known}`,
      'attributes.bad.yaml:18: groups[0].rules[1].where.attributes.government_backed: institution type microloan cannot carry attribute government_backed (declared for financing_guarantee)',
      'attributes.bad.yaml:26: groups[0].rules[2].where.attributes.government_backed: must be true or false',
      'attributes.bad.yaml:34: groups[0].rules[3].where.attributes: name at least one attribute',
      `attributes.bad.yaml:45: groups[0].rules[4].overrides[0].attributes.small_micro_focussed: unknown institution attribute small_micro_focussed; ${known}`,
      "attributes.bad.yaml:48: groups[0].rules[4].overrides[1].attributes.first_operating_year: none of the rule's types can carry attribute first_operating_year (declared for pawn)",
      'attributes.bad.yaml:59: groups[0].rules[5].overrides[0]: an override names exactly one of types, attributes or institutions',
    ]);
  });
});
