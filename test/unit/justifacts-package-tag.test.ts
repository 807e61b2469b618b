import { findPackageTag, parsePackageTag } from '../../src/vendors/justifacts/package-tag';

const EMP = { code: 'EmpCod', id: '13558' };

describe('Justifacts package tag', () => {
  it("parses the seed's exact tag", () => {
    expect(parsePackageTag('JUSTIFACTS BGC PKG: EmpCod[ID : 13558]')).toEqual(EMP);
  });

  it.each([
    'JUSTIFACTS BGC PKG:EmpCod[ID:13558]',
    'JUSTIFACTS  BGC PKG : EmpCod [ ID : 13558 ]',
    '  JUSTIFACTS BGC PKG: EmpCod[ID : 13558]  ',
    'JUSTIFACTS BGC PKG:  EmpCod  [ID: 13558]',
    'JUSTIFACTS\u00a0BGC\u00a0PKG:\u00a0EmpCod[ID\u00a0:\u00a013558]',
    'Justifacts BGC Pkg: EmpCod[ID : 13558]',
    'justifacts bgc pkg: EmpCod[id : 13558]',
    'JUSTIFACTS\tBGC PKG:\tEmpCod[ID :\t13558]',
  ])('tolerates spacing and case variations: %j', (tag) => {
    expect(parsePackageTag(tag)).toEqual(EMP);
  });

  it('keeps the case of the code and reads other codes and ids', () => {
    expect(parsePackageTag('JUSTIFACTS BGC PKG: CrimCod[ID : 20417]')).toEqual({
      code: 'CrimCod',
      id: '20417',
    });
    expect(parsePackageTag('JUSTIFACTS BGC PKG: EMP-2_x[ID : A77]')).toEqual({ code: 'EMP-2_x', id: 'A77' });
  });

  it.each([
    '',
    'Background Check',
    '(Justifacts)In-Progress : Candidate',
    '(Justifacts)Complete',
    'CERTN - Pending',
    'JUSTIFACTS BGC PKG:',
    'JUSTIFACTS BGC PKG: EmpCod',
    'JUSTIFACTS BGC PKG: EmpCod[ID : ]',
    'JUSTIFACTS BGC PKG: [ID : 13558]',
    'JUSTIFACTS BGC PKG: EmpCod[13558]',
    'JUSTIFACTS BGC PKG: EmpCod(ID : 13558)',
    'JUSTIFACTS BGC PKG: Emp Cod[ID : 13558]',
    'JUSTIFACTS BGC PKG: EmpCod[ID : 13558] extra',
    'NOT JUSTIFACTS BGC PKG: EmpCod[ID : 13558]',
    'VICTIG BGC PKG: EmpCod[ID : 13558]',
  ])('rejects a tag that is not a package tag: %j', (tag) => {
    expect(parsePackageTag(tag)).toBeNull();
  });

  it('finds the first package tag among other tags', () => {
    expect(
      findPackageTag([
        'Engineering',
        'JUSTIFACTS BGC PKG EmpCod',
        'JUSTIFACTS BGC PKG:EmpCod[ID:13558]',
        'JUSTIFACTS BGC PKG: CrimCod[ID : 20417]',
      ]),
    ).toEqual(EMP);
    expect(findPackageTag(['Engineering', '(Justifacts)Complete'])).toBeNull();
    expect(findPackageTag([])).toBeNull();
  });
});
