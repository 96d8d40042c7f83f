import { describe, expect, it } from 'vitest';
import { attributeProblems, parseAttributeCell } from '../../../src/institutions/institution.attributes.js';
import { validateInstitutions } from '../../../src/institutions/institution.service.js';
import { shippedCatalog } from '../../support/catalog.js';

const catalog = shippedCatalog();
const guaranteeFirm = {
  code: 'QZFG01',
  name: '泉州市融资担保',
  type: 'financing_guarantee',
  county: '市本级',
};

describe(attributeProblems.name, () => {
  it('accepts the attributes the catalog declares for the type, as booleans', () => {
    expect(
      attributeProblems(
        catalog,
        'financing_guarantee',
        { government_backed: true, small_micro_focused: false },
        1,
      ),
    ).toEqual([]);
    expect(attributeProblems(catalog, 'financing_guarantee', undefined, 1)).toEqual([]);
  });

  it('names each problem: unknown attribute, attribute of another type, value not a boolean', () => {
    expect(
      attributeProblems(
        catalog,
        'microloan',
        { goverment_backed: true, government_backed: true, large_bank: 'yes' },
        3,
      ),
    ).toEqual([
      {
        code: 'unknown_attribute',
        row: 3,
        field: 'attributes.goverment_backed',
        value: 'goverment_backed',
        message:
          'Unknown attribute goverment_backed; known: government_backed, small_micro_focused, large_bank, first_operating_year',
      },
      {
        code: 'attribute_not_for_type',
        row: 3,
        field: 'attributes.government_backed',
        value: 'government_backed',
        message:
          'Attribute government_backed (Government-backed guarantee firm) is for financing_guarantee institutions, not microloan',
      },
      {
        code: 'attribute_not_for_type',
        row: 3,
        field: 'attributes.large_bank',
        value: 'large_bank',
        message:
          'Attribute large_bank (Assets of CNY 200 bn or more) is for city_commercial_bank, rural_commercial_bank, rural_credit_cooperative, village_bank institutions, not microloan',
      },
      {
        code: 'invalid_attribute_value',
        row: 3,
        field: 'attributes.large_bank',
        value: 'yes',
        message: 'Attribute large_bank must be true or false, not "yes"',
      },
    ]);
  });
});

describe(validateInstitutions.name, () => {
  it('checks attributes with the rest of each institution, every problem with its row', () => {
    const { valid, errors } = validateInstitutions(
      catalog,
      [
        { ...guaranteeFirm, attributes: { government_backed: true } },
        { ...guaranteeFirm, code: 'QZFG02', attributes: { government_backed: 1 } },
        { ...guaranteeFirm, code: 'QZML01', type: 'microloan', attributes: { small_micro_focused: true } },
      ],
      2,
    );
    expect(valid.map((i) => i.code)).toEqual(['QZFG01']);
    expect(errors.map((e) => [e.row, e.code, e.field])).toEqual([
      [3, 'invalid_attribute_value', 'attributes.government_backed'],
      [4, 'attribute_not_for_type', 'attributes.small_micro_focused'],
    ]);
  });
});

describe(parseAttributeCell.name, () => {
  it('reads codes separated by semicolons as true, and code=true|false', () => {
    expect(parseAttributeCell('government_backed; small_micro_focused')).toEqual({
      government_backed: true,
      small_micro_focused: true,
    });
    expect(parseAttributeCell('government_backed=false;small_micro_focused = true;')).toEqual({
      government_backed: false,
      small_micro_focused: true,
    });
    expect(parseAttributeCell('')).toEqual({});
  });

  it('keeps any other value as text, for validation to name it', () => {
    expect(parseAttributeCell('government_backed=yes')).toEqual({ government_backed: 'yes' });
  });
});
